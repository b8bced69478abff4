//! Phase 1 of component compilation: validates the whole component binary with one wasmparser
//! [`Validator`] and records, for every (nested) component, the list of what each item of its
//! index spaces is ([`LocalInitializer`]s, in binary order), and for every core module its parsed
//! [`ModuleEnvironment`].
//!
//! Nothing is resolved here: instantiation arguments, aliases and types are kept as indices
//! and wasmparser type ids, which phase 2 ([`super::inline`]) interprets. Core modules are numbered
//! in the order their module sections appear in the binary (pre-order over nesting); a module's
//! translation reuses [`environ::parse_at`] on its byte range, so every offset stays absolute in
//! the component binary. What the validator accepts but this compiler does not run (importing
//! core modules or components at the root, canonical builtins other than `lift`, `lower` and
//! `resource.new/drop/rep`, the `async`, `callback`, `gc` and `core-type` options) is refused
//! here by name, with its offset.

use crate::config::WasmFeatures as ConfigFeatures;
use crate::environ::{self, ModuleEnvironment};
use crate::error::{Error, Phase};
use aot_runtime::artifact::FuncType;
use aot_runtime::artifact::component::{IntrinsicKind, StaticModuleIndex, StringEncoding};
use std::collections::HashMap;
use std::ops::Range;
use wasmparser::component_types::{
    ComponentAnyTypeId, ComponentEntityType, ComponentFuncTypeId, ComponentInstanceTypeId,
    ResourceId,
};
use wasmparser::types::{Types, TypesRef};
use wasmparser::{
    BinaryReaderError, CanonicalFunction, CanonicalOption, ComponentAlias, ComponentExternalKind,
    ComponentName, ComponentOuterAliasKind, ExternalKind, KnownCustom, Parser, Payload,
    ValidPayload, Validator, WasmFeatures,
};

/// Everything phase 1 learns about a component binary.
pub(crate) struct Translation<'a> {
    /// Every component, nested ones first (in the order they end), the root last.
    pub components: Vec<StaticComponent<'a>>,
    /// Every core module, by [`StaticModuleIndex`].
    pub modules: Vec<StaticModuleInput<'a>>,
    /// The validator's type information at the end of the root, which covers every id any
    /// component refers to.
    pub types: Types,
}

impl Translation<'_> {
    /// The outermost component.
    pub fn root(&self) -> &StaticComponent<'_> {
        self.components
            .last()
            .expect("a translation has a root component")
    }
}

/// One component of the binary, as written (not instantiated).
#[derive(Default)]
pub(crate) struct StaticComponent<'a> {
    /// One entry per item added to an index space, in binary order.
    pub initializers: Vec<LocalInitializer<'a>>,
    /// Exports in binary order, naming the item exported, with the offset of the export.
    pub exports: Vec<(&'a str, ComponentItem, u64)>,
    /// Names from the `component-name` custom section.
    pub names: Names,
}

/// Names from a component's `component-name` section (debugging aids only).
#[derive(Default)]
pub(crate) struct Names {
    /// The component's own name.
    pub component: Option<String>,
    /// Names of core modules, by module index in this component.
    pub modules: HashMap<u32, String>,
    /// Names of component instances, by instance index.
    pub instances: HashMap<u32, String>,
    /// Names of types, by component type index.
    pub types: HashMap<u32, String>,
}

/// A core module of the component.
pub(crate) struct StaticModuleInput<'a> {
    /// Its parsed form; set when the module's last payload has been validated.
    pub env: Option<ModuleEnvironment<'a>>,
    /// Byte range of the module in the component binary.
    pub range: Range<u64>,
    /// Its name: the module's name section, else the enclosing component's `component-name`.
    pub name: Option<String>,
}

/// An item of a component's index spaces, as the binary names it.
#[derive(Copy, Clone, Debug)]
pub(crate) enum ComponentItem {
    /// Component function index.
    Func(u32),
    /// Core module index.
    Module(u32),
    /// Component index.
    Component(u32),
    /// Component instance index.
    Instance(u32),
    /// A type.
    Type(ComponentAnyTypeId),
}

/// The kinds of core items a core instance can provide.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum CoreSort {
    /// A function.
    Func,
    /// A table.
    Table,
    /// A memory.
    Memory,
    /// A global.
    Global,
}

/// A module or component an inner component refers to through an outer alias.
#[derive(Copy, Clone, Debug)]
pub(crate) enum ClosedOver {
    /// Index in the enclosing component's own index space.
    Local(u32),
    /// Index in the closure the enclosing component received.
    Upvar(u32),
}

/// What a nested component closes over, in its parent's terms.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClosedOverVars {
    /// Core modules.
    pub modules: Vec<ClosedOver>,
    /// Components.
    pub components: Vec<ClosedOver>,
}

/// The `canon lift`/`canon lower` options as written.
#[derive(Clone, Debug, Default)]
pub(crate) struct LocalOptions {
    /// `string-encoding`.
    pub string_encoding: StringEncoding,
    /// Core memory index.
    pub memory: Option<u32>,
    /// Core function index.
    pub realloc: Option<u32>,
    /// Core function index.
    pub post_return: Option<u32>,
}

/// One item added to an index space of a component, in binary order.
pub(crate) enum LocalInitializer<'a> {
    /// A component import: adds an item of the kind of its type.
    Import {
        /// Import name.
        name: &'a str,
        /// Its type.
        ty: ComponentEntityType,
    },
    /// `canon lower`: adds a core function.
    Lower {
        /// The component function lowered.
        func: u32,
        /// Its type.
        ty: ComponentFuncTypeId,
        /// Options.
        options: LocalOptions,
        /// The core function type the validator gives the result.
        core_type: FuncType,
    },
    /// `canon lift`: adds a component function.
    Lift {
        /// Its type.
        ty: ComponentFuncTypeId,
        /// The core function lifted.
        func: u32,
        /// Options.
        options: LocalOptions,
    },
    /// `(type (resource (rep i32) (dtor ..)))`: defines a resource type.
    Resource {
        /// wasmparser's id for it.
        id: ResourceId,
        /// The destructor, a core function index.
        dtor: Option<u32>,
        /// Its component type index (for its name).
        type_index: u32,
    },
    /// `resource.new`, `resource.rep` or `resource.drop`: adds a core function.
    ResourceIntrinsic {
        /// Which.
        kind: IntrinsicKind,
        /// The resource type.
        id: ResourceId,
    },
    /// A core module section: adds a core module.
    Module(StaticModuleIndex),
    /// `(core instance (instantiate ..))`.
    ModuleInstantiate {
        /// Core module index.
        module: u32,
        /// Argument names and core instance indices.
        args: Vec<(&'a str, u32)>,
    },
    /// `(core instance (export ..) ..)`.
    ModuleSynthetic(Vec<(&'a str, CoreSort, u32)>),
    /// A nested component section: adds a component.
    Component {
        /// Its position in [`Translation::components`].
        index: usize,
        /// What it closes over.
        closure: ClosedOverVars,
    },
    /// `(instance (instantiate ..))`.
    ComponentInstantiate {
        /// Component index.
        component: u32,
        /// Arguments.
        args: Vec<(&'a str, ComponentItem)>,
        /// The type of the instance created.
        ty: ComponentInstanceTypeId,
    },
    /// `(instance (export ..) ..)`.
    ComponentSynthetic(Vec<(&'a str, ComponentItem)>),
    /// `(alias core export ..)`.
    AliasCoreExport {
        /// Core instance index.
        instance: u32,
        /// What it aliases.
        sort: CoreSort,
        /// Export name.
        name: &'a str,
    },
    /// `(alias export ..)`.
    AliasExport {
        /// Component instance index.
        instance: u32,
        /// Export name.
        name: &'a str,
        /// What it aliases.
        kind: ComponentExternalKind,
    },
    /// `(alias outer ..)` of a core module.
    AliasModule(ClosedOver),
    /// `(alias outer ..)` of a component.
    AliasComponent(ClosedOver),
    /// An export: adds the exported item again to its index space.
    Export(ComponentItem),
}

/// The state of one level of nesting while parsing.
enum Level<'a> {
    /// A component being translated, with what its current nested component closes over.
    Component(Box<StaticComponent<'a>>, ClosedOverVars),
    /// A core module whose payloads only the validator sees.
    Module(StaticModuleIndex),
}

/// The validator's feature set for components: WebAssembly 2.0, the core proposals the `Config`
/// enables, and the component model without any of its optional features but `implements`
/// names.
fn component_features(config: &ConfigFeatures) -> WasmFeatures {
    let mut features = environ::wasm_features(config);
    features.insert(WasmFeatures::COMPONENT_MODEL | WasmFeatures::CM_IMPLEMENTS);
    features
}

/// Validates `wasm`, a component binary, and translates every component and core module in it.
pub(crate) fn translate<'a>(
    wasm: &'a [u8],
    config: &ConfigFeatures,
) -> Result<Translation<'a>, Error> {
    let features = component_features(config);
    let mut validator = Validator::new_with_features(features);
    let mut parser = Parser::new(0);
    parser.set_features(features);
    let mut translator = Translator {
        wasm,
        config,
        validator: &mut validator,
        levels: Vec::new(),
        components: Vec::new(),
        modules: Vec::new(),
    };
    for payload in parser.parse_all(wasm) {
        let payload = payload.map_err(|e| environ::wasm_error(Phase::Parse, &e, config))?;
        if let Some(types) = translator.payload(payload)? {
            return Ok(Translation {
                components: translator.components,
                modules: translator.modules,
                types,
            });
        }
    }
    Err(Error::new(Phase::Parse, "unexpected end of the component"))
}

/// Phase 1's state.
struct Translator<'a, 'v> {
    wasm: &'a [u8],
    config: &'v ConfigFeatures,
    validator: &'v mut Validator,
    /// Components and modules being parsed, innermost last.
    levels: Vec<Level<'a>>,
    components: Vec<StaticComponent<'a>>,
    modules: Vec<StaticModuleInput<'a>>,
}

/// A validation error of the component binary.
fn invalid(e: BinaryReaderError, config: &ConfigFeatures) -> Error {
    environ::wasm_error(Phase::Validate, &e, config)
}

/// A construct the validator accepts but this compiler does not support.
fn unsupported(message: impl Into<String>, offset: u64) -> Error {
    Error::new(Phase::Validate, message).with_offset(offset)
}

impl<'a> Translator<'a, '_> {
    /// Handles one payload; returns the root's types once the root ends.
    fn payload(&mut self, payload: Payload<'a>) -> Result<Option<Types>, Error> {
        let config = self.config;
        if let Some(Level::Module(_)) = self.levels.last() {
            // Inside a core module: the outer validator checks its structure (bodies are
            // validated when they are translated), and the module is parsed at its end.
            let valid = self
                .validator
                .payload(&payload)
                .map_err(|e| invalid(e, config))?;
            if let ValidPayload::End(_) = valid {
                let Some(Level::Module(index)) = self.levels.pop() else {
                    unreachable!("the innermost level is a module")
                };
                let module = &mut self.modules[index.index()];
                let range = &module.range;
                let bytes = usize::try_from(range.start)
                    .ok()
                    .zip(usize::try_from(range.end).ok())
                    .and_then(|(start, end)| self.wasm.get(start..end))
                    .ok_or_else(|| {
                        Error::new(Phase::Parse, "a core module section is out of bounds")
                            .with_offset(range.start)
                    })?;
                let env = environ::parse_at(bytes, range.start, config)
                    .map_err(|e| e.with_module(&format!("module{}", index.0)))?;
                if module.name.is_none() {
                    module.name.clone_from(&env.name_section_module_name);
                }
                module.env = Some(env);
            }
            return Ok(None);
        }
        match payload {
            Payload::Version { .. } => {
                self.validator
                    .payload(&payload)
                    .map_err(|e| invalid(e, config))?;
                if self.levels.is_empty() {
                    self.levels
                        .push(Level::Component(Default::default(), Default::default()));
                }
            }
            Payload::End(_) => {
                let ValidPayload::End(types) = self
                    .validator
                    .payload(&payload)
                    .map_err(|e| invalid(e, config))?
                else {
                    unreachable!("an end payload validates to its types")
                };
                let Some(Level::Component(component, _)) = self.levels.pop() else {
                    unreachable!("the innermost level is a component")
                };
                self.finish_component(*component);
                if self.levels.is_empty() {
                    return Ok(Some(types));
                }
                let index = self.components.len() - 1;
                let (parent, closure) = self.current();
                let closure = std::mem::take(closure);
                parent
                    .initializers
                    .push(LocalInitializer::Component { index, closure });
            }
            Payload::ModuleSection {
                ref unchecked_range,
                ..
            } => {
                let range = unchecked_range.clone();
                self.validator
                    .payload(&payload)
                    .map_err(|e| invalid(e, config))?;
                let index = StaticModuleIndex::new(self.modules.len());
                self.modules.push(StaticModuleInput {
                    env: None,
                    range,
                    name: None,
                });
                self.current()
                    .0
                    .initializers
                    .push(LocalInitializer::Module(index));
                self.levels.push(Level::Module(index));
            }
            Payload::ComponentSection { .. } => {
                self.validator
                    .payload(&payload)
                    .map_err(|e| invalid(e, config))?;
                self.levels
                    .push(Level::Component(Default::default(), Default::default()));
            }
            Payload::ComponentTypeSection(ref section) => {
                let first = self.types().component_type_count();
                self.validator
                    .payload(&payload)
                    .map_err(|e| invalid(e, config))?;
                for (i, ty) in section.clone().into_iter().enumerate() {
                    let ty = ty.map_err(|e| invalid(e, config))?;
                    if let wasmparser::ComponentType::Resource { dtor, .. } = ty {
                        let type_index = first + i as u32;
                        let id = self
                            .types()
                            .component_any_type_at(type_index)
                            .unwrap_resource()
                            .resource();
                        self.push(LocalInitializer::Resource {
                            id,
                            dtor,
                            type_index,
                        });
                    }
                }
            }
            Payload::ComponentImportSection(ref section) => {
                self.validator
                    .payload(&payload)
                    .map_err(|e| invalid(e, config))?;
                let root = self.levels.len() == 1;
                for import in section.clone().into_iter_with_offsets() {
                    let (offset, import) = import.map_err(|e| invalid(e, config))?;
                    let name = import.name.name;
                    let ty = self
                        .types()
                        .component_item_for_import(name)
                        .expect("a validated import has a type")
                        .ty;
                    if root {
                        check_root_import(name, &ty, offset)?;
                    }
                    self.push(LocalInitializer::Import { name, ty });
                }
            }
            Payload::ComponentCanonicalSection(ref section) => {
                let mut core_func = self.types().function_count();
                self.validator
                    .payload(&payload)
                    .map_err(|e| invalid(e, config))?;
                for func in section.clone().into_iter_with_offsets() {
                    let (offset, func) = func.map_err(|e| invalid(e, config))?;
                    let init = self.canonical(func, &mut core_func, offset)?;
                    self.push(init);
                }
            }
            Payload::InstanceSection(ref section) => {
                self.validator
                    .payload(&payload)
                    .map_err(|e| invalid(e, config))?;
                for instance in section.clone().into_iter_with_offsets() {
                    let (offset, instance) = instance.map_err(|e| invalid(e, config))?;
                    let init = match instance {
                        wasmparser::Instance::Instantiate { module_index, args } => {
                            LocalInitializer::ModuleInstantiate {
                                module: module_index,
                                args: args.iter().map(|arg| (arg.name, arg.index)).collect(),
                            }
                        }
                        wasmparser::Instance::FromExports(exports) => {
                            let mut items = Vec::with_capacity(exports.len());
                            for export in exports.iter() {
                                let sort = core_sort(export.kind, offset)?;
                                items.push((export.name, sort, export.index));
                            }
                            LocalInitializer::ModuleSynthetic(items)
                        }
                    };
                    self.push(init);
                }
            }
            Payload::ComponentInstanceSection(ref section) => {
                let first = self.types().component_instance_count();
                self.validator
                    .payload(&payload)
                    .map_err(|e| invalid(e, config))?;
                for (i, instance) in section.clone().into_iter_with_offsets().enumerate() {
                    let (offset, instance) = instance.map_err(|e| invalid(e, config))?;
                    let init = match instance {
                        wasmparser::ComponentInstance::Instantiate {
                            component_index,
                            args,
                        } => {
                            let ty = self.types().component_instance_at(first + i as u32);
                            let mut items = Vec::with_capacity(args.len());
                            for arg in args.iter() {
                                items.push((arg.name, self.item(arg.kind, arg.index, offset)?));
                            }
                            LocalInitializer::ComponentInstantiate {
                                component: component_index,
                                args: items,
                                ty,
                            }
                        }
                        wasmparser::ComponentInstance::FromExports(exports) => {
                            let mut items = Vec::with_capacity(exports.len());
                            for export in exports.iter() {
                                let item = self.item(export.kind, export.index, offset)?;
                                items.push((export.name.name, item));
                            }
                            LocalInitializer::ComponentSynthetic(items)
                        }
                    };
                    self.push(init);
                }
            }
            Payload::ComponentAliasSection(ref section) => {
                self.validator
                    .payload(&payload)
                    .map_err(|e| invalid(e, config))?;
                for alias in section.clone().into_iter_with_offsets() {
                    let (offset, alias) = alias.map_err(|e| invalid(e, config))?;
                    let init = match alias {
                        ComponentAlias::InstanceExport {
                            instance_index,
                            name,
                            kind,
                        } => LocalInitializer::AliasExport {
                            instance: instance_index,
                            name,
                            kind,
                        },
                        ComponentAlias::CoreInstanceExport {
                            kind,
                            instance_index,
                            name,
                        } => LocalInitializer::AliasCoreExport {
                            instance: instance_index,
                            sort: core_sort(kind, offset)?,
                            name,
                        },
                        ComponentAlias::Outer { kind, count, index } => {
                            match self.alias_outer(kind, count, index) {
                                Some(init) => init,
                                None => continue,
                            }
                        }
                    };
                    self.push(init);
                }
            }
            Payload::ComponentExportSection(ref section) => {
                self.validator
                    .payload(&payload)
                    .map_err(|e| invalid(e, config))?;
                for export in section.clone().into_iter_with_offsets() {
                    let (offset, export) = export.map_err(|e| invalid(e, config))?;
                    let item = self.item(export.kind, export.index, offset)?;
                    let component = self.current().0;
                    component.exports.push((export.name.name, item, offset));
                    component.initializers.push(LocalInitializer::Export(item));
                }
            }
            Payload::ComponentStartSection { ref range, .. } => {
                let offset = range.start;
                self.validator
                    .payload(&payload)
                    .map_err(|e| invalid(e, config))?;
                return Err(unsupported(
                    "unsupported component model feature `cm-values` (value imports and start \
                     functions): component start functions are not supported",
                    offset,
                ));
            }
            Payload::CustomSection(ref reader) => {
                self.validator
                    .payload(&payload)
                    .map_err(|e| invalid(e, config))?;
                if let KnownCustom::ComponentName(names) = reader.as_known() {
                    // Names are only a debugging aid: a malformed section is ignored from the
                    // problem on.
                    let names_out = &mut self.current().0.names;
                    for name in names {
                        let Ok(name) = name else { break };
                        read_component_name(names_out, name);
                    }
                }
            }
            Payload::CoreTypeSection(_) => {
                self.validator
                    .payload(&payload)
                    .map_err(|e| invalid(e, config))?;
            }
            other => {
                // Anything else in a component is either invalid there (the validator says
                // why) or a section this compiler does not know.
                let offset = other.as_section().map_or(0, |(_, range)| range.start);
                self.validator
                    .payload(&other)
                    .map_err(|e| invalid(e, config))?;
                return Err(unsupported("unsupported section in a component", offset));
            }
        }
        Ok(None)
    }

    /// The component being translated, with what its current nested component closes over.
    fn current(&mut self) -> (&mut StaticComponent<'a>, &mut ClosedOverVars) {
        match self.levels.last_mut() {
            Some(Level::Component(component, closure)) => (component, closure),
            _ => unreachable!("component payloads only come inside a component"),
        }
    }

    fn push(&mut self, init: LocalInitializer<'a>) {
        self.current().0.initializers.push(init);
    }

    /// The validator's view of the component being translated.
    fn types(&self) -> TypesRef<'_> {
        self.validator
            .types(0)
            .expect("a component is being validated")
    }

    /// Records a finished component; module names from its name section fill in the names of
    /// its modules that have none of their own.
    fn finish_component(&mut self, component: StaticComponent<'a>) {
        // Walk the core module index space: module sections, but also aliases, imports and
        // exports of modules, which take indices too.
        let mut module_index = 0;
        for init in &component.initializers {
            match init {
                LocalInitializer::Module(index) => {
                    let module = &mut self.modules[index.index()];
                    if module.name.is_none() {
                        module.name = component.names.modules.get(&module_index).cloned();
                    }
                }
                LocalInitializer::AliasModule(_)
                | LocalInitializer::Import {
                    ty: ComponentEntityType::Module(_),
                    ..
                }
                | LocalInitializer::AliasExport {
                    kind: ComponentExternalKind::Module,
                    ..
                }
                | LocalInitializer::Export(ComponentItem::Module(_)) => {}
                _ => continue,
            }
            module_index += 1;
        }
        self.components.push(component);
    }

    /// An item of the component's index spaces.
    fn item(
        &self,
        kind: ComponentExternalKind,
        index: u32,
        offset: u64,
    ) -> Result<ComponentItem, Error> {
        Ok(match kind {
            ComponentExternalKind::Func => ComponentItem::Func(index),
            ComponentExternalKind::Module => ComponentItem::Module(index),
            ComponentExternalKind::Component => ComponentItem::Component(index),
            ComponentExternalKind::Instance => ComponentItem::Instance(index),
            ComponentExternalKind::Type => {
                ComponentItem::Type(self.types().component_any_type_at(index))
            }
            ComponentExternalKind::Value => {
                return Err(unsupported(
                    "unsupported component model feature `cm-values` (value imports and start \
                     functions): component values are not supported",
                    offset,
                ));
            }
        })
    }

    /// An outer alias; `None` for types, which need no initializer.
    fn alias_outer(
        &mut self,
        kind: ComponentOuterAliasKind,
        count: u32,
        index: u32,
    ) -> Option<LocalInitializer<'a>> {
        let is_module = match kind {
            ComponentOuterAliasKind::CoreModule => true,
            ComponentOuterAliasKind::Component => false,
            ComponentOuterAliasKind::CoreType | ComponentOuterAliasKind::Type => return None,
        };
        // The enclosing components, innermost last, excluding the current one; the validator
        // checked that `count` of them exist.
        let depth = self.levels.len() - 1;
        let target = depth - count as usize;
        let mut var = ClosedOver::Local(index);
        for level in &mut self.levels[target..depth] {
            let Level::Component(_, closure) = level else {
                unreachable!("components only nest in components")
            };
            let vars = if is_module {
                &mut closure.modules
            } else {
                &mut closure.components
            };
            vars.push(var);
            var = ClosedOver::Upvar(vars.len() as u32 - 1);
        }
        Some(if is_module {
            LocalInitializer::AliasModule(var)
        } else {
            LocalInitializer::AliasComponent(var)
        })
    }

    /// One entry of a canonical section; `core_func` is the next core function index.
    fn canonical(
        &self,
        func: CanonicalFunction,
        core_func: &mut u32,
        offset: u64,
    ) -> Result<LocalInitializer<'a>, Error> {
        let types = self.types();
        let resource = |index: u32| {
            types
                .component_any_type_at(index)
                .unwrap_resource()
                .resource()
        };
        let init = match func {
            CanonicalFunction::Lift {
                core_func_index,
                type_index,
                options,
            } => {
                return Ok(LocalInitializer::Lift {
                    ty: types.component_any_type_at(type_index).unwrap_func(),
                    func: core_func_index,
                    options: local_options(&options, offset)?,
                });
            }
            CanonicalFunction::Lower {
                func_index,
                options,
            } => LocalInitializer::Lower {
                func: func_index,
                ty: types.component_function_at(func_index),
                options: local_options(&options, offset)?,
                core_type: self.core_func_type(*core_func, offset)?,
            },
            CanonicalFunction::ResourceNew { resource: r } => LocalInitializer::ResourceIntrinsic {
                kind: IntrinsicKind::ResourceNew,
                id: resource(r),
            },
            CanonicalFunction::ResourceRep { resource: r } => LocalInitializer::ResourceIntrinsic {
                kind: IntrinsicKind::ResourceRep,
                id: resource(r),
            },
            CanonicalFunction::ResourceDrop { resource: r } => {
                LocalInitializer::ResourceIntrinsic {
                    kind: IntrinsicKind::ResourceDrop,
                    id: resource(r),
                }
            }
            other => {
                return Err(unsupported(
                    format!(
                        "canonical builtin `{}` is not supported: only `canon lift`, `canon \
                         lower`, `resource.new`, `resource.drop` and `resource.rep` are",
                        builtin_name(&other)
                    ),
                    offset,
                ));
            }
        };
        *core_func += 1;
        Ok(init)
    }

    /// The type of core function `index` of the component being translated.
    fn core_func_type(&self, index: u32, offset: u64) -> Result<FuncType, Error> {
        let types = self.types();
        let id = types.core_function_at(index);
        environ::func_type(types[id].unwrap_func(), offset)
    }
}

/// Refuses root imports of core modules and components (nothing could provide them).
fn check_root_import(name: &str, ty: &ComponentEntityType, offset: u64) -> Result<(), Error> {
    let what = match ty {
        ComponentEntityType::Module(_) => "a core module",
        ComponentEntityType::Component(_) => "a component",
        ComponentEntityType::Value(_) => {
            return Err(unsupported(
                format!(
                    "unsupported component model feature `cm-values` (value imports and start \
                     functions): import `{name}` is a value"
                ),
                offset,
            ));
        }
        _ => return Ok(()),
    };
    Err(unsupported(
        format!(
            "importing {what} is not supported: only functions, interfaces and resource types \
             can be imported (import `{name}`)"
        ),
        offset,
    ))
}

/// The options of a `canon lift` or `canon lower`.
fn local_options(options: &[CanonicalOption], offset: u64) -> Result<LocalOptions, Error> {
    let mut local = LocalOptions::default();
    for option in options {
        match *option {
            CanonicalOption::UTF8 => local.string_encoding = StringEncoding::Utf8,
            CanonicalOption::UTF16 => local.string_encoding = StringEncoding::Utf16,
            CanonicalOption::CompactUTF16 => {
                local.string_encoding = StringEncoding::CompactUtf16;
            }
            CanonicalOption::Memory(m) => local.memory = Some(m),
            CanonicalOption::Realloc(f) => local.realloc = Some(f),
            CanonicalOption::PostReturn(f) => local.post_return = Some(f),
            CanonicalOption::Async | CanonicalOption::Callback(_) => {
                return Err(unsupported(
                    "unsupported component model feature `cm-async` (async functions, streams, \
                     futures): the `async` and `callback` options are not supported",
                    offset,
                ));
            }
            CanonicalOption::Gc | CanonicalOption::CoreType(_) => {
                return Err(unsupported(
                    "unsupported component model feature `cm-gc` (the gc option): the `gc` and \
                     `core-type` options are not supported",
                    offset,
                ));
            }
        }
    }
    Ok(local)
}

/// The core item kinds a component can alias or bundle.
fn core_sort(kind: ExternalKind, offset: u64) -> Result<CoreSort, Error> {
    Ok(match kind {
        ExternalKind::Func | ExternalKind::FuncExact => CoreSort::Func,
        ExternalKind::Table => CoreSort::Table,
        ExternalKind::Memory => CoreSort::Memory,
        ExternalKind::Global => CoreSort::Global,
        ExternalKind::Tag => {
            return Err(unsupported("exception tags are not supported", offset));
        }
    })
}

/// The name of a canonical builtin for error messages: its variant name, in kebab case with a
/// dot after the first word (`thread.available-parallelism`).
fn builtin_name(func: &CanonicalFunction) -> String {
    let debug = format!("{func:?}");
    let variant = debug
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or_default();
    let mut name = String::new();
    let mut words = 0;
    for c in variant.chars() {
        if c.is_ascii_uppercase() {
            if words == 1 {
                name.push('.');
            } else if words > 1 {
                name.push('-');
            }
            words += 1;
            name.push(c.to_ascii_lowercase());
        } else {
            name.push(c);
        }
    }
    name
}

/// Records one subsection of a `component-name` section.
fn read_component_name(names: &mut Names, name: ComponentName<'_>) {
    let (map, target) = match name {
        ComponentName::Component { name, .. } => {
            names.component = Some(name.to_string());
            return;
        }
        ComponentName::CoreModules(map) => (map, &mut names.modules),
        ComponentName::Instances(map) => (map, &mut names.instances),
        ComponentName::Types(map) => (map, &mut names.types),
        _ => return,
    };
    for naming in map {
        let Ok(naming) = naming else { break };
        target.insert(naming.index, naming.name.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_names_read_like_the_text_format() {
        assert_eq!(
            builtin_name(&CanonicalFunction::ThreadAvailableParallelism),
            "thread.available-parallelism"
        );
        assert_eq!(
            builtin_name(&CanonicalFunction::BackpressureInc),
            "backpressure.inc"
        );
        assert_eq!(
            builtin_name(&CanonicalFunction::ContextGet {
                ty: wasmparser::ValType::I32,
                slot: 0
            }),
            "context.get"
        );
    }
}
