//! Conversion of wasmparser's component types into the artifact's [`ComponentTypes`], through
//! [`ComponentTypesBuilder`] (which interns them and computes their canonical ABI layouts).
//!
//! Resource types are generative, so wasmparser's [`ResourceId`]s mean nothing by themselves: the
//! inliner keeps, for the component instance being inlined, the map from each id in scope to
//! the plan's [`ResourceIndex`], and every conversion goes through it. Conversion recurses over
//! nested types, so its depth is bounded by [`MAX_TYPE_DEPTH`] (the loader's own limit) before
//! anything could exhaust the stack.
//!
//! [`ComponentTypes`]: aot_runtime::artifact::component::ComponentTypes

use crate::error::{Error, Phase};
use aot_runtime::artifact::component::{
    ComponentTypesBuilder, InterfaceType, ItemType, MAX_TYPE_DEPTH, ResourceIndex, TypeFuncIndex,
    TypeInstanceIndex,
};
use std::collections::HashMap;
use wasmparser::PrimitiveValType;
use wasmparser::component_types::{
    ComponentAnyTypeId, ComponentDefinedType, ComponentDefinedTypeId, ComponentEntityType,
    ComponentFuncTypeId, ComponentInstanceTypeId, ComponentValType, ResourceId,
};
use wasmparser::types::Types;

/// Resource ids in scope, with the plan's index of each.
pub(crate) type ResourceMap = HashMap<ResourceId, ResourceIndex>;

/// Converts types of one component instance being inlined.
pub(crate) struct TypeConverter<'a> {
    /// wasmparser's types (the root's, which cover every id).
    pub types: &'a Types,
    /// Where converted types are interned.
    pub builder: &'a mut ComponentTypesBuilder,
    /// The resources in scope.
    pub resources: &'a ResourceMap,
}

/// An error in a component type the validator accepted but this compiler cannot represent.
fn type_error(message: impl Into<String>) -> Error {
    Error::new(Phase::Validate, message)
}

fn too_deep() -> Error {
    type_error(format!(
        "component types nested deeper than {MAX_TYPE_DEPTH} levels are not supported"
    ))
}

impl TypeConverter<'_> {
    /// The plan's index of a resource in scope.
    pub fn resource(&self, id: ResourceId) -> Result<ResourceIndex, Error> {
        self.resources.get(&id).copied().ok_or_else(|| {
            Error::new(
                Phase::Validate,
                "internal error: a resource type is used outside the scope that defines it",
            )
        })
    }

    /// A function type.
    pub fn func(&mut self, id: ComponentFuncTypeId) -> Result<TypeFuncIndex, Error> {
        let ty = &self.types[id];
        if ty.async_ {
            return Err(type_error(
                "unsupported component model feature `cm-async` (async functions, streams, \
                 futures): async function types are not supported",
            ));
        }
        let mut params = Vec::with_capacity(ty.params.len());
        for (name, param) in ty.params.iter() {
            params.push((name.to_string(), self.value(param, 1)?));
        }
        let result = match &ty.result {
            Some(result) => Some(self.value(result, 1)?),
            None => None,
        };
        Ok(self.builder.func(params.into(), result))
    }

    /// An instance type (of an import).
    pub fn instance(
        &mut self,
        id: ComponentInstanceTypeId,
        depth: u32,
    ) -> Result<TypeInstanceIndex, Error> {
        if depth > MAX_TYPE_DEPTH {
            return Err(too_deep());
        }
        let ty = &self.types[id];
        let mut exports = Vec::with_capacity(ty.exports.len());
        for (name, item) in ty.exports.iter() {
            exports.push((name.clone(), self.entity(name, &item.ty, depth + 1)?));
        }
        Ok(self.builder.instance(exports))
    }

    /// The type of an import, or of an export of an imported instance, named `name`.
    pub fn entity(
        &mut self,
        name: &str,
        ty: &ComponentEntityType,
        depth: u32,
    ) -> Result<ItemType, Error> {
        Ok(match *ty {
            ComponentEntityType::Func(f) => ItemType::Func(self.func(f)?),
            ComponentEntityType::Instance(i) => ItemType::Instance(self.instance(i, depth)?),
            ComponentEntityType::Type {
                created: ComponentAnyTypeId::Resource(id),
                ..
            } => ItemType::Resource(self.resource(id.resource())?),
            ComponentEntityType::Type { .. } => ItemType::Type,
            ComponentEntityType::Module(_) | ComponentEntityType::Component(_) => {
                return Err(type_error(format!(
                    "importing a core module or a component is not supported: only functions, \
                     interfaces and resource types can be imported (`{name}`)"
                )));
            }
            ComponentEntityType::Value(_) => {
                return Err(type_error(format!(
                    "unsupported component model feature `cm-values` (value imports and start \
                     functions): `{name}` is a value"
                )));
            }
        })
    }

    /// A value type; `depth` is its nesting depth (1 at the top).
    fn value(&mut self, ty: &ComponentValType, depth: u32) -> Result<InterfaceType, Error> {
        match *ty {
            ComponentValType::Primitive(p) => primitive(p),
            ComponentValType::Type(id) => self.defined(id, depth),
        }
    }

    fn defined(&mut self, id: ComponentDefinedTypeId, depth: u32) -> Result<InterfaceType, Error> {
        if depth > MAX_TYPE_DEPTH {
            return Err(too_deep());
        }
        let inner = depth + 1;
        let ty = match &self.types[id] {
            ComponentDefinedType::Primitive(p) => return primitive(*p),
            ComponentDefinedType::Record(record) => {
                let mut fields = Vec::with_capacity(record.fields.len());
                for (name, field) in record.fields.iter() {
                    fields.push((name.to_string(), self.value(field, inner)?));
                }
                self.builder.record(fields.into())
            }
            ComponentDefinedType::Variant(variant) => {
                let mut cases = Vec::with_capacity(variant.cases.len());
                for (name, case) in variant.cases.iter() {
                    let payload = match &case.ty {
                        Some(ty) => Some(self.value(ty, inner)?),
                        None => None,
                    };
                    cases.push((name.to_string(), payload));
                }
                self.builder.variant(cases.into())
            }
            ComponentDefinedType::List { element, .. } => {
                let element = self.value(element, inner)?;
                self.builder.list(element)
            }
            ComponentDefinedType::Tuple(tuple) => {
                let mut types = Vec::with_capacity(tuple.types.len());
                for ty in tuple.types.iter() {
                    types.push(self.value(ty, inner)?);
                }
                self.builder.tuple(types.into())
            }
            ComponentDefinedType::Flags(names) => self
                .builder
                .flags(names.iter().map(|n| n.to_string()).collect()),
            ComponentDefinedType::Enum(names) => self
                .builder
                .enumeration(names.iter().map(|n| n.to_string()).collect()),
            ComponentDefinedType::Option { ty, .. } => {
                let ty = self.value(ty, inner)?;
                self.builder.option(ty)
            }
            ComponentDefinedType::Result { ok, err, .. } => {
                let ok = match ok {
                    Some(ty) => Some(self.value(ty, inner)?),
                    None => None,
                };
                let err = match err {
                    Some(ty) => Some(self.value(ty, inner)?),
                    None => None,
                };
                self.builder.result(ok, err)
            }
            ComponentDefinedType::Own(id) => InterfaceType::Own(self.resource(id.resource())?),
            ComponentDefinedType::Borrow(id) => {
                InterfaceType::Borrow(self.resource(id.resource())?)
            }
            ComponentDefinedType::Map { .. } => {
                return Err(type_error(
                    "unsupported component model feature `cm-map` (map): map types are not \
                     supported",
                ));
            }
            ComponentDefinedType::FixedLengthList { .. } => {
                return Err(type_error(
                    "unsupported component model feature `cm-fixed-length-lists` (fixed-length \
                     lists): fixed-length list types are not supported",
                ));
            }
            ComponentDefinedType::Future { .. } | ComponentDefinedType::Stream { .. } => {
                return Err(type_error(
                    "unsupported component model feature `cm-async` (async functions, streams, \
                     futures): stream and future types are not supported",
                ));
            }
        };
        if self.builder.depth(&ty) > MAX_TYPE_DEPTH {
            return Err(too_deep());
        }
        Ok(ty)
    }
}

fn primitive(ty: PrimitiveValType) -> Result<InterfaceType, Error> {
    Ok(match ty {
        PrimitiveValType::Bool => InterfaceType::Bool,
        PrimitiveValType::S8 => InterfaceType::S8,
        PrimitiveValType::U8 => InterfaceType::U8,
        PrimitiveValType::S16 => InterfaceType::S16,
        PrimitiveValType::U16 => InterfaceType::U16,
        PrimitiveValType::S32 => InterfaceType::S32,
        PrimitiveValType::U32 => InterfaceType::U32,
        PrimitiveValType::S64 => InterfaceType::S64,
        PrimitiveValType::U64 => InterfaceType::U64,
        PrimitiveValType::F32 => InterfaceType::F32,
        PrimitiveValType::F64 => InterfaceType::F64,
        PrimitiveValType::Char => InterfaceType::Char,
        PrimitiveValType::String => InterfaceType::String,
        PrimitiveValType::ErrorContext => {
            return Err(type_error(
                "unsupported component model feature `cm-error-context` (error-context): \
                 error-context types are not supported",
            ));
        }
    })
}
