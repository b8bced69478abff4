//! Phase 2 of component compilation: instantiates the root component at build time, following
//! every nested component instantiation, and produces the flat plan of
//! [`ComponentInfo`]: `InstantiateModule` steps whose arguments are already-resolved [`CoreDef`]s,
//! lowerings, canonical options, resource types and builtins, and the root's exports.
//!
//! The interpreter keeps a stack of [`Frame`]s, one per component *instantiation* being
//! inlined, each holding its index spaces as definitions rather than indices: instantiating a
//! nested component pushes a frame whose imports are the argument definitions, aliases resolve
//! to what they name, core instances made of exports never exist at run time, and core export
//! names become `EntityIndex`es of the static module's exports. Only a core `instantiate`
//! emits an initializer.
//!
//! Resource types are generative: every `(type (resource ..))` executed defines a fresh
//! [`ResourceIndex`], so a nested component instantiated twice defines two. wasmparser's
//! resource ids are mapped to indices in scope ([`ResourceMap`]); a frame starts from its
//! parent's map and the map is restored when it ends. Imports of a frame are matched with their
//! argument definitions, and the instance a nested component produces is matched with the
//! parent's view of its type, so every id the parent sees maps to the index that defines it.
//! Every table is a `Vec` filled in binary order (maps only serve lookups), so the plan is a
//! pure function of the binary.

use super::translate::{
    ClosedOver, ComponentItem, CoreSort, LocalInitializer, LocalOptions, StaticComponent,
    Translation,
};
use super::types::{ResourceMap, TypeConverter};
use crate::error::{Error, Phase};
use aot_runtime::artifact::component::{
    Callee, CanonicalOptions, ComponentImport, ComponentInfo, ComponentInstanceInfo,
    ComponentTypesBuilder, Context, CoreDef, CoreExport, Export, ImportIndex, Initializer,
    Intrinsic, IntrinsicIndex, ItemType, Lowering, LoweringIndex, MAX_TYPE_DEPTH, OptionsIndex,
    ResourceDef, ResourceIndex, RuntimeComponentInstanceIndex, RuntimeImport, RuntimeImportIndex,
    RuntimeInstanceIndex, StaticModuleIndex, TypeFuncIndex, TypeInstanceIndex, abi,
};
use aot_runtime::artifact::{EntityIndex, FuncType, ModuleInfo};
use std::collections::HashMap;
use std::rc::Rc;
use wasmparser::component_types::{
    ComponentAnyTypeId, ComponentEntityType, ComponentInstanceTypeId,
};

/// A path from a root import to one of its leaves.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ImportPath {
    import: ImportIndex,
    path: Vec<String>,
}

impl ImportPath {
    fn push(&self, name: &str) -> Self {
        let mut path = self.clone();
        path.path.push(name.to_string());
        path
    }
}

/// What an item of a component's index spaces is, at build time.
#[derive(Clone, Debug)]
enum ComponentItemDef<'a> {
    Func(ComponentFuncDef),
    Instance(ComponentInstanceDef<'a>),
    Component(ComponentDef),
    Module(StaticModuleIndex),
    Type(TypeDef),
}

#[derive(Clone, Debug)]
enum ComponentFuncDef {
    /// A leaf of a root import.
    Import(ImportPath),
    /// A `canon lift`.
    Lifted {
        ty: TypeFuncIndex,
        func: CoreDef,
        options: OptionsIndex,
    },
}

#[derive(Clone, Debug)]
enum ComponentInstanceDef<'a> {
    /// A root import (or an instance exported by one), of this instance type.
    Import(ImportPath, TypeInstanceIndex),
    /// Items by name: the exports of an inlined instantiation, or `(instance (export ..))`.
    Items(Rc<Vec<(&'a str, ComponentItemDef<'a>)>>),
}

#[derive(Copy, Clone, Debug)]
enum TypeDef {
    Resource(ResourceIndex),
    Other,
}

/// A component (static, not instantiated) with the outer modules and components it closes over.
#[derive(Clone, Debug)]
struct ComponentDef {
    index: usize,
    modules: Rc<Vec<StaticModuleIndex>>,
    components: Rc<Vec<ComponentDef>>,
}

/// A core instance in a frame's index space.
#[derive(Clone, Debug)]
enum CoreInstanceDef<'a> {
    /// Created by the plan.
    Runtime(RuntimeInstanceIndex, StaticModuleIndex),
    /// `(core instance (export ..))`: only a bag of names.
    Synthetic(Rc<Vec<(&'a str, CoreDef)>>),
}

/// One component instantiation being inlined.
struct Frame<'a> {
    instance: RuntimeComponentInstanceIndex,
    component: &'a StaticComponent<'a>,
    closure: ComponentDef,
    args: HashMap<&'a str, ComponentItemDef<'a>>,
    /// The parent's view of the instance this frame produces (`None` for the root).
    instance_ty: Option<ComponentInstanceTypeId>,
    /// The resource map when this frame started, restored when it ends.
    saved_resources: ResourceMap,
    next: usize,
    core_funcs: Vec<CoreDef>,
    core_tables: Vec<CoreDef>,
    core_memories: Vec<CoreExport<EntityIndex>>,
    core_globals: Vec<CoreDef>,
    core_instances: Vec<CoreInstanceDef<'a>>,
    modules: Vec<StaticModuleIndex>,
    funcs: Vec<ComponentFuncDef>,
    instances: Vec<ComponentInstanceDef<'a>>,
    components: Vec<ComponentDef>,
}

fn internal(message: impl std::fmt::Display) -> Error {
    Error::new(
        Phase::Validate,
        format!("internal error while inlining the component: {message}"),
    )
}

/// Runs the root component of `translation` at build time. The returned plan has no
/// `modules` yet (emission fills them in).
pub(crate) fn run(translation: &Translation<'_>, name: &str) -> Result<ComponentInfo, Error> {
    let mut inliner = Inliner {
        translation,
        builder: ComponentTypesBuilder::new(),
        resources: ResourceMap::new(),
        info: ComponentInfo {
            name: name.to_string(),
            ..ComponentInfo::default()
        },
        runtime_imports: HashMap::new(),
        instance_modules: Vec::new(),
    };
    inliner
        .info
        .component_instances
        .push(ComponentInstanceInfo {
            parent: None,
            name: "root".into(),
        });
    let root = translation.root();
    let args = inliner.root_imports(root)?;
    let frame = Frame::new(
        RuntimeComponentInstanceIndex::new(0),
        root,
        ComponentDef {
            index: translation.components.len() - 1,
            modules: Rc::default(),
            components: Rc::default(),
        },
        args,
        None,
        inliner.resources.clone(),
    );
    let exports = inliner.execute(frame)?;
    for ((name, def), (_, _, offset)) in exports.iter().zip(&root.exports) {
        let export = inliner.export(def, name, *offset, 0)?;
        inliner.info.exports.push((name.to_string(), export));
    }
    inliner.info.types = inliner.builder.finish();
    Ok(inliner.info)
}

/// Phase 2's state.
struct Inliner<'a> {
    translation: &'a Translation<'a>,
    builder: ComponentTypesBuilder,
    /// Resource ids in scope of the frame being executed.
    resources: ResourceMap,
    info: ComponentInfo,
    runtime_imports: HashMap<ImportPath, RuntimeImportIndex>,
    /// The static module of each runtime instance.
    instance_modules: Vec<StaticModuleIndex>,
}

impl<'a> Frame<'a> {
    fn new(
        instance: RuntimeComponentInstanceIndex,
        component: &'a StaticComponent<'a>,
        closure: ComponentDef,
        args: HashMap<&'a str, ComponentItemDef<'a>>,
        instance_ty: Option<ComponentInstanceTypeId>,
        saved_resources: ResourceMap,
    ) -> Self {
        Self {
            instance,
            component,
            closure,
            args,
            instance_ty,
            saved_resources,
            next: 0,
            core_funcs: Vec::new(),
            core_tables: Vec::new(),
            core_memories: Vec::new(),
            core_globals: Vec::new(),
            core_instances: Vec::new(),
            modules: Vec::new(),
            funcs: Vec::new(),
            instances: Vec::new(),
            components: Vec::new(),
        }
    }

    fn push_item(&mut self, item: ComponentItemDef<'a>) {
        match item {
            ComponentItemDef::Func(f) => self.funcs.push(f),
            ComponentItemDef::Instance(i) => self.instances.push(i),
            ComponentItemDef::Component(c) => self.components.push(c),
            ComponentItemDef::Module(m) => self.modules.push(m),
            // Type index spaces are not tracked: types are wasmparser ids, resolved through the
            // resource map.
            ComponentItemDef::Type(_) => {}
        }
    }

    fn closed_over_module(&self, var: ClosedOver) -> Result<StaticModuleIndex, Error> {
        let found = match var {
            ClosedOver::Local(i) => self.modules.get(i as usize),
            ClosedOver::Upvar(i) => self.closure.modules.get(i as usize),
        };
        found
            .copied()
            .ok_or_else(|| internal("outer alias of a missing module"))
    }

    fn closed_over_component(&self, var: ClosedOver) -> Result<ComponentDef, Error> {
        let found = match var {
            ClosedOver::Local(i) => self.components.get(i as usize),
            ClosedOver::Upvar(i) => self.closure.components.get(i as usize),
        };
        found
            .cloned()
            .ok_or_else(|| internal("outer alias of a missing component"))
    }
}

/// Looks an index up in an index space; the validator guarantees it exists.
fn get<T: Clone>(space: &[T], index: u32, what: &str) -> Result<T, Error> {
    space
        .get(index as usize)
        .cloned()
        .ok_or_else(|| internal(format!("{what} {index} is not defined")))
}

impl<'a> Inliner<'a> {
    /// A converter of wasmparser types with the resources in scope.
    fn types(&mut self) -> TypeConverter<'_> {
        TypeConverter {
            types: &self.translation.types,
            builder: &mut self.builder,
            resources: &self.resources,
        }
    }

    fn module_info(&self, module: StaticModuleIndex) -> Result<&'a ModuleInfo, Error> {
        let translation: &'a Translation<'a> = self.translation;
        translation
            .modules
            .get(module.index())
            .and_then(|m| m.env.as_ref())
            .map(|env| &env.info)
            .ok_or_else(|| internal(format!("core module {} was not parsed", module.0)))
    }

    /// Records the root's imports: their types, the resources they introduce (imported
    /// resources come first in the plan's resource table) and their definitions.
    fn root_imports(
        &mut self,
        root: &'a StaticComponent<'a>,
    ) -> Result<HashMap<&'a str, ComponentItemDef<'a>>, Error> {
        let translation: &'a Translation<'a> = self.translation;
        let types = &translation.types;
        let mut args = HashMap::new();
        for init in &root.initializers {
            let LocalInitializer::Import { name, ty } = init else {
                continue;
            };
            if let ComponentEntityType::Type {
                created: ComponentAnyTypeId::Resource(_),
                ..
            }
            | ComponentEntityType::Func(_)
            | ComponentEntityType::Instance(_) = ty
            {
            } else {
                // Other type imports only name types; nothing provides them at run time.
                continue;
            }
            let import = ImportIndex::new(self.info.imports.len());
            let mut path = Vec::new();
            self.register_imported_resources(types, import, ty, &mut path)?;
            let item = self.types().entity(name, ty, 1)?;
            self.info.imports.push(ComponentImport {
                name: name.to_string(),
                ty: item,
            });
            let path = ImportPath {
                import,
                path: Vec::new(),
            };
            args.insert(*name, def_of_import(path, item));
        }
        Ok(args)
    }

    /// Gives every resource a root import introduces an imported [`ResourceIndex`].
    fn register_imported_resources(
        &mut self,
        types: &wasmparser::types::Types,
        import: ImportIndex,
        ty: &ComponentEntityType,
        path: &mut Vec<String>,
    ) -> Result<(), Error> {
        match *ty {
            ComponentEntityType::Type {
                created: ComponentAnyTypeId::Resource(id),
                ..
            } if !self.resources.contains_key(&id.resource()) => {
                let leaf = self.runtime_import(&ImportPath {
                    import,
                    path: path.clone(),
                });
                let index = ResourceIndex::new(self.info.resources.len());
                self.info.resources.push(ResourceDef::Imported(leaf));
                self.resources.insert(id.resource(), index);
            }
            ComponentEntityType::Instance(i) => {
                check_depth(path.len())?;
                for (name, item) in types[i].exports.iter() {
                    path.push(name.clone());
                    self.register_imported_resources(types, import, &item.ty, path)?;
                    path.pop();
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn runtime_import(&mut self, path: &ImportPath) -> RuntimeImportIndex {
        if let Some(index) = self.runtime_imports.get(path) {
            return *index;
        }
        let index = RuntimeImportIndex::new(self.info.runtime_imports.len());
        self.info.runtime_imports.push(RuntimeImport {
            import: path.import,
            path: path.path.clone().into(),
        });
        self.runtime_imports.insert(path.clone(), index);
        index
    }

    /// Executes `root` and every instantiation it makes; returns the root's exports.
    fn execute(&mut self, root: Frame<'a>) -> Result<Vec<(&'a str, ComponentItemDef<'a>)>, Error> {
        let mut frames = vec![root];
        loop {
            let frame = frames.last_mut().expect("a frame is running");
            if let Some(init) = frame.component.initializers.get(frame.next) {
                frame.next += 1;
                if let Some(child) = self.initializer(frame, init)? {
                    frames.push(child);
                }
                continue;
            }
            // The frame's component is instantiated: collect its exports and return to its
            // parent.
            let frame = frames.pop().expect("a frame is running");
            let mut exports = Vec::with_capacity(frame.component.exports.len());
            for (name, item, _) in &frame.component.exports {
                exports.push((*name, self.item(&frame, *item)?));
            }
            self.resources = frame.saved_resources;
            let Some(parent) = frames.last_mut() else {
                return Ok(exports);
            };
            let ty = frame
                .instance_ty
                .ok_or_else(|| internal("a nested instance has no type"))?;
            let def = ComponentInstanceDef::Items(Rc::new(exports));
            // The parent sees the instance through its own type: map the resource ids of that
            // type to the definitions.
            let item = ComponentItemDef::Instance(def.clone());
            let mut path = Vec::new();
            self.register_resources(&ComponentEntityType::Instance(ty), &item, &mut path)?;
            parent.instances.push(def);
        }
    }

    /// Maps every resource id `ty` (a frame's view of `def`) introduces to the resource `def`
    /// provides at the same path.
    fn register_resources(
        &mut self,
        ty: &ComponentEntityType,
        def: &ComponentItemDef<'a>,
        path: &mut Vec<&'a str>,
    ) -> Result<(), Error> {
        let translation: &'a Translation<'a> = self.translation;
        let types = &translation.types;
        match *ty {
            ComponentEntityType::Type {
                created: ComponentAnyTypeId::Resource(id),
                ..
            } if !self.resources.contains_key(&id.resource()) => {
                let index = self.lookup_resource(def, path)?;
                self.resources.insert(id.resource(), index);
            }
            ComponentEntityType::Instance(i) => {
                check_depth(path.len())?;
                for (name, item) in types[i].exports.iter() {
                    path.push(name);
                    self.register_resources(&item.ty, def, path)?;
                    path.pop();
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The resource found in `def` at `path`.
    fn lookup_resource(
        &self,
        def: &ComponentItemDef<'a>,
        path: &[&str],
    ) -> Result<ResourceIndex, Error> {
        let mut current = def.clone();
        for name in path {
            current = match &current {
                ComponentItemDef::Instance(instance) => self.instance_export(instance, name)?,
                _ => return Err(internal(format!("resource path through `{name}`"))),
            };
        }
        match current {
            ComponentItemDef::Type(TypeDef::Resource(index)) => Ok(index),
            _ => Err(internal("an imported resource type is not a resource")),
        }
    }

    /// Export `name` of a component instance.
    fn instance_export(
        &self,
        instance: &ComponentInstanceDef<'a>,
        name: &str,
    ) -> Result<ComponentItemDef<'a>, Error> {
        match instance {
            ComponentInstanceDef::Items(items) => items
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, def)| def.clone())
                .ok_or_else(|| internal(format!("instance has no export `{name}`"))),
            ComponentInstanceDef::Import(path, ty) => {
                let item = self
                    .builder
                    .types()
                    .instances
                    .get(ty.index())
                    .and_then(|t| t.exports.iter().find(|(n, _)| n == name))
                    .map(|(_, item)| *item)
                    .ok_or_else(|| internal(format!("imported instance has no export `{name}`")))?;
                Ok(def_of_import(path.push(name), item))
            }
        }
    }

    /// The definition of an item of `frame`'s index spaces.
    fn item(&self, frame: &Frame<'a>, item: ComponentItem) -> Result<ComponentItemDef<'a>, Error> {
        Ok(match item {
            ComponentItem::Func(i) => {
                ComponentItemDef::Func(get(&frame.funcs, i, "component function")?)
            }
            ComponentItem::Module(i) => ComponentItemDef::Module(get(&frame.modules, i, "module")?),
            ComponentItem::Component(i) => {
                ComponentItemDef::Component(get(&frame.components, i, "component")?)
            }
            ComponentItem::Instance(i) => {
                ComponentItemDef::Instance(get(&frame.instances, i, "component instance")?)
            }
            ComponentItem::Type(ComponentAnyTypeId::Resource(id)) => {
                let index = self.resources.get(&id.resource()).ok_or_else(|| {
                    internal("a resource type is used outside the scope that defines it")
                })?;
                ComponentItemDef::Type(TypeDef::Resource(*index))
            }
            ComponentItem::Type(_) => ComponentItemDef::Type(TypeDef::Other),
        })
    }

    /// Executes one initializer of `frame`; returns the frame of a nested instantiation.
    fn initializer(
        &mut self,
        frame: &mut Frame<'a>,
        init: &'a LocalInitializer<'a>,
    ) -> Result<Option<Frame<'a>>, Error> {
        match init {
            LocalInitializer::Import { name, ty } => {
                let Some(arg) = frame.args.get(name).cloned() else {
                    // Only plain type imports of the root have no definition.
                    return match ty {
                        ComponentEntityType::Type {
                            created: ComponentAnyTypeId::Resource(_),
                            ..
                        } => Err(internal(format!(
                            "resource import `{name}` has no definition"
                        ))),
                        ComponentEntityType::Type { .. } => Ok(None),
                        _ => Err(internal(format!("import `{name}` has no definition"))),
                    };
                };
                let mut path = Vec::new();
                self.register_resources(ty, &arg, &mut path)?;
                frame.push_item(arg);
            }
            LocalInitializer::Lower {
                func,
                ty,
                options,
                core_type,
            } => {
                let ty = self.types().func(*ty)?;
                let options = self.options(frame, options)?;
                let lowered = abi::flatten_func(
                    &self.builder.types().funcs[ty.index()],
                    self.builder.types(),
                    Context::Lower,
                );
                if lowered != *core_type {
                    return Err(internal(format!(
                        "lowering a function of type `{}` gives core type {lowered}, but the \
                         validator gave {core_type}",
                        self.builder.types().display_func(ty)
                    )));
                }
                let callee = match get(&frame.funcs, *func, "component function")? {
                    ComponentFuncDef::Import(path) => Callee::Import(self.runtime_import(&path)),
                    ComponentFuncDef::Lifted { func, options, .. } => {
                        Callee::Lifted { func, options }
                    }
                };
                let index = LoweringIndex::new(self.info.lowerings.len());
                self.info.lowerings.push(Lowering {
                    ty,
                    options,
                    core_type: lowered,
                    callee,
                });
                frame.core_funcs.push(CoreDef::Lowered(index));
            }
            LocalInitializer::Lift { ty, func, options } => {
                let ty = self.types().func(*ty)?;
                let options = self.options(frame, options)?;
                let func = get(&frame.core_funcs, *func, "core function")?;
                let expected = abi::flatten_func(
                    &self.builder.types().funcs[ty.index()],
                    self.builder.types(),
                    Context::Lift,
                );
                let found = self.core_func_type(&func)?;
                if found != expected {
                    return Err(internal(format!(
                        "lifting a core function of type {found} as `{}`, which needs {expected}",
                        self.builder.types().display_func(ty)
                    )));
                }
                frame
                    .funcs
                    .push(ComponentFuncDef::Lifted { ty, func, options });
            }
            LocalInitializer::Resource {
                id,
                dtor,
                type_index,
            } => {
                let dtor = match dtor {
                    Some(f) => Some(get(&frame.core_funcs, *f, "core function")?),
                    None => None,
                };
                let name = frame
                    .component
                    .names
                    .types
                    .get(type_index)
                    .cloned()
                    .unwrap_or_else(|| format!("resource{type_index}"));
                let index = ResourceIndex::new(self.info.resources.len());
                self.info.resources.push(ResourceDef::Defined {
                    instance: frame.instance,
                    dtor,
                    name,
                });
                self.resources.insert(*id, index);
            }
            LocalInitializer::ResourceIntrinsic { kind, id } => {
                let resource = self.types().resource(*id)?;
                let index = IntrinsicIndex::new(self.info.intrinsics.len());
                self.info.intrinsics.push(Intrinsic {
                    kind: *kind,
                    resource,
                    instance: frame.instance,
                });
                frame.core_funcs.push(CoreDef::Intrinsic(index));
            }
            LocalInitializer::Module(index) => frame.modules.push(*index),
            LocalInitializer::ModuleInstantiate { module, args } => {
                self.instantiate_module(frame, *module, args)?;
            }
            LocalInitializer::ModuleSynthetic(items) => {
                let mut defs = Vec::with_capacity(items.len());
                for (name, sort, index) in items {
                    let def = match sort {
                        CoreSort::Func => get(&frame.core_funcs, *index, "core function")?,
                        CoreSort::Table => get(&frame.core_tables, *index, "core table")?,
                        CoreSort::Memory => {
                            CoreDef::Export(get(&frame.core_memories, *index, "core memory")?)
                        }
                        CoreSort::Global => get(&frame.core_globals, *index, "core global")?,
                    };
                    defs.push((*name, def));
                }
                frame
                    .core_instances
                    .push(CoreInstanceDef::Synthetic(Rc::new(defs)));
            }
            LocalInitializer::Component { index, closure } => {
                let mut modules = Vec::with_capacity(closure.modules.len());
                for var in &closure.modules {
                    modules.push(frame.closed_over_module(*var)?);
                }
                let mut components = Vec::with_capacity(closure.components.len());
                for var in &closure.components {
                    components.push(frame.closed_over_component(*var)?);
                }
                frame.components.push(ComponentDef {
                    index: *index,
                    modules: Rc::new(modules),
                    components: Rc::new(components),
                });
            }
            LocalInitializer::ComponentInstantiate {
                component,
                args,
                ty,
            } => {
                let component = get(&frame.components, *component, "component")?;
                let mut defs = HashMap::with_capacity(args.len());
                for (name, item) in args {
                    defs.insert(*name, self.item(frame, *item)?);
                }
                let instance =
                    RuntimeComponentInstanceIndex::new(self.info.component_instances.len());
                let parent_name = &self.info.component_instances[frame.instance.index()].name;
                let own_name = frame
                    .component
                    .names
                    .instances
                    .get(&(frame.instances.len() as u32))
                    .cloned()
                    .unwrap_or_else(|| format!("instance{}", frame.instances.len()));
                let name = format!("{parent_name}/{own_name}");
                self.info.component_instances.push(ComponentInstanceInfo {
                    parent: Some(frame.instance),
                    name,
                });
                let static_component = self
                    .translation
                    .components
                    .get(component.index)
                    .ok_or_else(|| internal("component out of range"))?;
                return Ok(Some(Frame::new(
                    instance,
                    static_component,
                    component,
                    defs,
                    Some(*ty),
                    self.resources.clone(),
                )));
            }
            LocalInitializer::ComponentSynthetic(items) => {
                let mut defs = Vec::with_capacity(items.len());
                for (name, item) in items {
                    defs.push((*name, self.item(frame, *item)?));
                }
                frame
                    .instances
                    .push(ComponentInstanceDef::Items(Rc::new(defs)));
            }
            LocalInitializer::AliasCoreExport {
                instance,
                sort,
                name,
            } => {
                let instance = get(&frame.core_instances, *instance, "core instance")?;
                let def = self.core_export(&instance, name)?;
                let kind_error = || internal(format!("core export `{name}` has the wrong kind"));
                match (sort, def) {
                    (CoreSort::Func, def) => frame.core_funcs.push(def),
                    (CoreSort::Memory, CoreDef::Export(export)) => {
                        if !matches!(export.index, EntityIndex::Memory(_)) {
                            return Err(kind_error());
                        }
                        frame.core_memories.push(export);
                    }
                    (CoreSort::Table, def) => frame.core_tables.push(def),
                    (CoreSort::Global, def) => frame.core_globals.push(def),
                    (CoreSort::Memory, _) => return Err(kind_error()),
                }
            }
            LocalInitializer::AliasExport { instance, name, .. } => {
                let instance = get(&frame.instances, *instance, "component instance")?;
                let def = self.instance_export(&instance, name)?;
                frame.push_item(def);
            }
            LocalInitializer::AliasModule(var) => {
                let module = frame.closed_over_module(*var)?;
                frame.modules.push(module);
            }
            LocalInitializer::AliasComponent(var) => {
                let component = frame.closed_over_component(*var)?;
                frame.components.push(component);
            }
            LocalInitializer::Export(item) => {
                let def = self.item(frame, *item)?;
                frame.push_item(def);
            }
        }
        Ok(None)
    }

    /// `(core instance (instantiate ..))`: one step of the plan.
    fn instantiate_module(
        &mut self,
        frame: &mut Frame<'a>,
        module: u32,
        args: &[(&'a str, u32)],
    ) -> Result<(), Error> {
        let module = get(&frame.modules, module, "core module")?;
        let info = self.module_info(module)?;
        let step = self.info.initializers.len();
        let mut defs = Vec::with_capacity(info.imports.len());
        for import in &info.imports {
            let (_, instance) = args
                .iter()
                .find(|(name, _)| *name == import.module)
                .ok_or_else(|| internal(format!("no argument `{}`", import.module)))?;
            let instance = get(&frame.core_instances, *instance, "core instance")?;
            let def = self.core_export(&instance, &import.name)?;
            // Kinds and function types were checked by the validator; the plan's consistency
            // is checked again here so that a mistake is found at build time.
            match import.index {
                EntityIndex::Func(f) => {
                    let expected = info.func_type(f);
                    let found = self.core_func_type(&def)?;
                    if found != *expected {
                        return Err(internal(format!(
                            "step {step}: import `{}::{}` expects {expected}, got {found}",
                            import.module, import.name
                        )));
                    }
                }
                _ => {
                    let same_kind = matches!(
                        (&def, import.index),
                        (
                            CoreDef::Export(CoreExport {
                                index: EntityIndex::Table(_),
                                ..
                            }),
                            EntityIndex::Table(_)
                        ) | (
                            CoreDef::Export(CoreExport {
                                index: EntityIndex::Memory(_),
                                ..
                            }),
                            EntityIndex::Memory(_)
                        ) | (
                            CoreDef::Export(CoreExport {
                                index: EntityIndex::Global(_),
                                ..
                            }),
                            EntityIndex::Global(_)
                        )
                    );
                    if !same_kind {
                        return Err(internal(format!(
                            "step {step}: import `{}::{}` gets an item of the wrong kind",
                            import.module, import.name
                        )));
                    }
                }
            }
            defs.push(def);
        }
        self.info.initializers.push(Initializer::InstantiateModule {
            module,
            args: defs.into(),
            instance: frame.instance,
        });
        let runtime = RuntimeInstanceIndex::new(self.instance_modules.len());
        self.instance_modules.push(module);
        frame
            .core_instances
            .push(CoreInstanceDef::Runtime(runtime, module));
        Ok(())
    }

    /// Export `name` of a core instance.
    fn core_export(&self, instance: &CoreInstanceDef<'a>, name: &str) -> Result<CoreDef, Error> {
        match instance {
            CoreInstanceDef::Runtime(runtime, module) => {
                let info = self.module_info(*module)?;
                let export = info
                    .exports
                    .iter()
                    .find(|e| e.name == name)
                    .ok_or_else(|| internal(format!("core instance has no export `{name}`")))?;
                Ok(CoreDef::Export(CoreExport {
                    instance: *runtime,
                    index: export.index,
                }))
            }
            CoreInstanceDef::Synthetic(items) => items
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, def)| *def)
                .ok_or_else(|| internal(format!("core instance has no export `{name}`"))),
        }
    }

    /// The core type of a function definition.
    fn core_func_type(&self, def: &CoreDef) -> Result<FuncType, Error> {
        match def {
            CoreDef::Export(export) => {
                let module = self
                    .instance_modules
                    .get(export.instance.index())
                    .ok_or_else(|| internal("core instance out of range"))?;
                let info = self.module_info(*module)?;
                match export.index {
                    EntityIndex::Func(f) => Ok(info.func_type(f).clone()),
                    _ => Err(internal("a core function is not a function")),
                }
            }
            CoreDef::Lowered(l) => Ok(self.info.lowerings[l.index()].core_type.clone()),
            CoreDef::Intrinsic(i) => Ok(self.info.intrinsics[i.index()].kind.core_type()),
        }
    }

    /// The plan's canonical options for `options` in `frame` (equal options are shared).
    fn options(
        &mut self,
        frame: &Frame<'a>,
        options: &LocalOptions,
    ) -> Result<OptionsIndex, Error> {
        let memory = match options.memory {
            Some(m) => {
                let export = get(&frame.core_memories, m, "core memory")?;
                let EntityIndex::Memory(index) = export.index else {
                    return Err(internal("a core memory is not a memory"));
                };
                Some(CoreExport {
                    instance: export.instance,
                    index,
                })
            }
            None => None,
        };
        let func = |f: Option<u32>| -> Result<Option<CoreDef>, Error> {
            f.map(|f| get(&frame.core_funcs, f, "core function"))
                .transpose()
        };
        let options = CanonicalOptions {
            instance: frame.instance,
            string_encoding: options.string_encoding,
            memory,
            realloc: func(options.realloc)?,
            post_return: func(options.post_return)?,
        };
        if let Some(i) = self.info.options.iter().position(|o| *o == options) {
            return Ok(OptionsIndex::new(i));
        }
        self.info.options.push(options);
        Ok(OptionsIndex::new(self.info.options.len() - 1))
    }

    /// A root export.
    fn export(
        &self,
        def: &ComponentItemDef<'a>,
        name: &str,
        offset: u64,
        depth: usize,
    ) -> Result<Export, Error> {
        let refuse = |what: &str| {
            Error::new(Phase::Validate, format!("export `{name}`: {what}")).with_offset(offset)
        };
        Ok(match def {
            ComponentItemDef::Func(ComponentFuncDef::Lifted { ty, func, options }) => {
                Export::LiftedFunc {
                    ty: *ty,
                    func: *func,
                    options: *options,
                }
            }
            ComponentItemDef::Func(ComponentFuncDef::Import(_)) => {
                return Err(refuse(
                    "re-exporting an imported function unchanged is not supported (export a \
                     function lifted from core wasm)",
                ));
            }
            ComponentItemDef::Instance(ComponentInstanceDef::Items(items)) => {
                check_depth(depth).map_err(|e| e.with_offset(offset))?;
                let mut exports = Vec::with_capacity(items.len());
                for (inner, def) in items.iter() {
                    let path = format!("{name}#{inner}");
                    exports.push((
                        inner.to_string(),
                        self.export(def, &path, offset, depth + 1)?,
                    ));
                }
                Export::Instance(exports)
            }
            ComponentItemDef::Instance(ComponentInstanceDef::Import(..)) => {
                return Err(refuse(
                    "re-exporting an imported instance unchanged is not supported",
                ));
            }
            ComponentItemDef::Type(TypeDef::Resource(r)) => Export::Resource(*r),
            ComponentItemDef::Type(TypeDef::Other) => Export::Type,
            ComponentItemDef::Module(_) => {
                return Err(refuse("exporting a core module is not supported"));
            }
            ComponentItemDef::Component(_) => {
                return Err(refuse("exporting a component is not supported"));
            }
        })
    }
}

/// Refuses instances nested deeper than the loader accepts (before recursing any further).
fn check_depth(depth: usize) -> Result<(), Error> {
    if depth >= MAX_TYPE_DEPTH as usize {
        return Err(Error::new(
            Phase::Validate,
            format!("instances nested deeper than {MAX_TYPE_DEPTH} levels are not supported"),
        ));
    }
    Ok(())
}

/// The definition of a root import leaf of type `ty`.
fn def_of_import<'a>(path: ImportPath, ty: ItemType) -> ComponentItemDef<'a> {
    match ty {
        ItemType::Func(_) => ComponentItemDef::Func(ComponentFuncDef::Import(path)),
        ItemType::Instance(i) => ComponentItemDef::Instance(ComponentInstanceDef::Import(path, i)),
        ItemType::Resource(r) => ComponentItemDef::Type(TypeDef::Resource(r)),
        ItemType::Type => ComponentItemDef::Type(TypeDef::Other),
    }
}
