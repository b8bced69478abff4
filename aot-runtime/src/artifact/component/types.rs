//! The component type vocabulary: [`InterfaceType`] (the value types of the component model),
//! the tables of compound types ([`ComponentTypes`]) they index into, function and instance types,
//! and [`ComponentTypesBuilder`], which interns types and computes their layouts.
//!
//! Types are structural and interned: two equal definitions get the same index, and entries are
//! numbered in first-occurrence order, so the same component always produces the same tables.
//! Every compound entry carries its [`CanonicalAbiInfo`], computed once by the builder with
//! [`super::abi`]; [`ComponentTypes::validate`] recomputes all of them at load time, so the
//! runtime can trust stored layouts. Resource types are not types here: `own` and `borrow` name
//! a [`ResourceIndex`] of the component's plan.

use super::abi::{CanonicalAbiInfo, MAX_TYPE_SIZE, VariantInfo};
use super::{ItemType, ResourceIndex};
use crate::artifact::index::index_types;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

index_types! {
    /// A `list<T>` in [`ComponentTypes::lists`].
    TypeListIndex;
    /// A record in [`ComponentTypes::records`].
    TypeRecordIndex;
    /// A tuple in [`ComponentTypes::tuples`].
    TypeTupleIndex;
    /// A variant in [`ComponentTypes::variants`].
    TypeVariantIndex;
    /// An enum in [`ComponentTypes::enums`].
    TypeEnumIndex;
    /// An `option<T>` in [`ComponentTypes::options`].
    TypeOptionIndex;
    /// A `result<T, E>` in [`ComponentTypes::results`].
    TypeResultIndex;
    /// Flags in [`ComponentTypes::flags`].
    TypeFlagsIndex;
    /// A function type in [`ComponentTypes::funcs`].
    TypeFuncIndex;
    /// An instance type in [`ComponentTypes::instances`].
    TypeInstanceIndex;
}

/// Deepest nesting of value types the loader accepts (as Wasmtime): lifting and lowering recurse
/// over types, so their depth bounds the runtime's stack use. A scalar has depth 1.
pub const MAX_TYPE_DEPTH: u32 = 100;

/// A component-model value type.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum InterfaceType {
    /// `bool`.
    Bool,
    /// `s8`.
    S8,
    /// `u8`.
    U8,
    /// `s16`.
    S16,
    /// `u16`.
    U16,
    /// `s32`.
    S32,
    /// `u32`.
    U32,
    /// `s64`.
    S64,
    /// `u64`.
    U64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `char`: a Unicode scalar value.
    Char,
    /// `string`.
    String,
    /// `list<T>`.
    List(TypeListIndex),
    /// `record { .. }`.
    Record(TypeRecordIndex),
    /// `tuple<..>`.
    Tuple(TypeTupleIndex),
    /// `variant { .. }`.
    Variant(TypeVariantIndex),
    /// `enum { .. }`.
    Enum(TypeEnumIndex),
    /// `option<T>`.
    Option(TypeOptionIndex),
    /// `result<T, E>`.
    Result(TypeResultIndex),
    /// `flags { .. }`.
    Flags(TypeFlagsIndex),
    /// `own<R>`: an owned handle to a resource.
    Own(ResourceIndex),
    /// `borrow<R>`: a handle lent for the duration of a call.
    Borrow(ResourceIndex),
}

/// The compound types of one component, by index. Built by [`ComponentTypesBuilder`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ComponentTypes {
    /// `list<T>` types.
    pub lists: Vec<TypeList>,
    /// Record types.
    pub records: Vec<TypeRecord>,
    /// Tuple types.
    pub tuples: Vec<TypeTuple>,
    /// Variant types.
    pub variants: Vec<TypeVariant>,
    /// Enum types.
    pub enums: Vec<TypeEnum>,
    /// `option<T>` types.
    pub options: Vec<TypeOption>,
    /// `result<T, E>` types.
    pub results: Vec<TypeResult>,
    /// Flags types.
    pub flags: Vec<TypeFlags>,
    /// Function types.
    pub funcs: Vec<TypeFunc>,
    /// Instance types (of imports and exports).
    pub instances: Vec<TypeInstance>,
}

/// `list<T>`. Every list has the layout [`CanonicalAbiInfo::POINTER_PAIR`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeList {
    /// The element type.
    pub element: InterfaceType,
}

/// `record { name: T, .. }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeRecord {
    /// Fields in declaration order.
    pub fields: Box<[(String, InterfaceType)]>,
    /// Layout.
    pub abi: CanonicalAbiInfo,
}

/// `tuple<T, ..>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeTuple {
    /// Element types in order.
    pub types: Box<[InterfaceType]>,
    /// Layout (that of a record of the same types).
    pub abi: CanonicalAbiInfo,
}

/// `variant { name(T), name, .. }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeVariant {
    /// Cases in declaration order; the case index is the discriminant.
    pub cases: Box<[(String, Option<InterfaceType>)]>,
    /// Layout.
    pub abi: CanonicalAbiInfo,
    /// Discriminant size and payload offset.
    pub info: VariantInfo,
}

/// `enum { name, .. }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeEnum {
    /// Case names in declaration order.
    pub names: Box<[String]>,
    /// Layout.
    pub abi: CanonicalAbiInfo,
    /// Discriminant size.
    pub info: VariantInfo,
}

/// `option<T>`: a variant `{ none, some(T) }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeOption {
    /// The payload of `some`.
    pub ty: InterfaceType,
    /// Layout.
    pub abi: CanonicalAbiInfo,
    /// Discriminant size and payload offset.
    pub info: VariantInfo,
}

/// `result<T, E>`: a variant `{ ok(T), error(E) }`, either payload optional.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeResult {
    /// The payload of `ok`, if any.
    pub ok: Option<InterfaceType>,
    /// The payload of `error`, if any.
    pub err: Option<InterfaceType>,
    /// Layout.
    pub abi: CanonicalAbiInfo,
    /// Discriminant size and payload offset.
    pub info: VariantInfo,
}

/// `flags { name, .. }`: bit `i` is label `i`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeFlags {
    /// Labels in declaration order.
    pub names: Box<[String]>,
    /// Layout.
    pub abi: CanonicalAbiInfo,
}

/// `func(name: T, ..) -> R`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeFunc {
    /// Named parameters in order.
    pub params: Box<[(String, InterfaceType)]>,
    /// The result, if any.
    pub result: Option<InterfaceType>,
    /// Layout of the parameters as one tuple: how they spill into memory.
    pub params_abi: CanonicalAbiInfo,
    /// Layout of the results as one tuple: how they are returned through memory.
    pub results_abi: CanonicalAbiInfo,
}

/// `instance { export "name" (..) .. }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeInstance {
    /// Exports in declaration order. A nested instance type always has a smaller index than the
    /// instance types containing it.
    pub exports: Vec<(String, ItemType)>,
}

impl ComponentTypes {
    /// The layout of `ty`.
    ///
    /// # Panics
    /// If `ty` refers to an entry missing from these tables (never after [`Self::validate`]).
    pub fn canonical_abi(&self, ty: &InterfaceType) -> CanonicalAbiInfo {
        match *ty {
            InterfaceType::Bool | InterfaceType::S8 | InterfaceType::U8 => {
                CanonicalAbiInfo::SCALAR1
            }
            InterfaceType::S16 | InterfaceType::U16 => CanonicalAbiInfo::SCALAR2,
            InterfaceType::S32
            | InterfaceType::U32
            | InterfaceType::F32
            | InterfaceType::Char
            | InterfaceType::Own(_)
            | InterfaceType::Borrow(_) => CanonicalAbiInfo::SCALAR4,
            InterfaceType::S64 | InterfaceType::U64 | InterfaceType::F64 => {
                CanonicalAbiInfo::SCALAR8
            }
            InterfaceType::String | InterfaceType::List(_) => CanonicalAbiInfo::POINTER_PAIR,
            InterfaceType::Record(i) => self.records[i.index()].abi,
            InterfaceType::Tuple(i) => self.tuples[i.index()].abi,
            InterfaceType::Variant(i) => self.variants[i.index()].abi,
            InterfaceType::Enum(i) => self.enums[i.index()].abi,
            InterfaceType::Option(i) => self.options[i.index()].abi,
            InterfaceType::Result(i) => self.results[i.index()].abi,
            InterfaceType::Flags(i) => self.flags[i.index()].abi,
        }
    }

    /// `ty` in WIT-like structural syntax (`list<tuple<u8, string>>`, `record { x: u32 }`).
    /// Resources print as `own<resourceN>` with their [`ResourceIndex`]. Indices out of range
    /// print as `<invalid>` instead of panicking.
    pub fn display(&self, ty: &InterfaceType) -> impl fmt::Display + '_ {
        DisplayType {
            types: self,
            ty: *ty,
        }
    }

    /// The function type `func` as `func(name: string) -> string`.
    pub fn display_func(&self, func: TypeFuncIndex) -> impl fmt::Display + '_ {
        DisplayFunc { types: self, func }
    }

    /// Checks that every index is in range (resources below `num_resources`), that the type
    /// graph has no cycle, that nesting stays within [`MAX_TYPE_DEPTH`] and sizes below
    /// [`MAX_TYPE_SIZE`], and that every stored layout is the one the canonical ABI gives.
    /// Afterwards no function over these tables can index out of bounds or recurse forever.
    ///
    /// # Errors
    /// A description of the first problem found.
    pub fn validate(&self, num_resources: usize) -> Result<(), String> {
        let mut checker = Checker::new(self, num_resources);
        for node in 0..checker.num_nodes() {
            checker.visit(node)?;
        }
        for (i, func) in self.funcs.iter().enumerate() {
            let mut params = Vec::with_capacity(func.params.len());
            for (_, param) in func.params.iter() {
                params.push(checker.value_abi(param)?);
            }
            let results = match &func.result {
                Some(result) => CanonicalAbiInfo::record(&[checker.value_abi(result)?]),
                None => CanonicalAbiInfo::ZERO,
            };
            if func.params_abi != CanonicalAbiInfo::record(&params) || func.results_abi != results {
                return Err(format!("function type {i} has a wrong layout"));
            }
            if func.params_abi.size32 >= MAX_TYPE_SIZE {
                return Err(format!("parameters of function type {i} are too large"));
            }
        }
        for (i, instance) in self.instances.iter().enumerate() {
            for (name, item) in &instance.exports {
                let ok = match *item {
                    ItemType::Func(f) => f.index() < self.funcs.len(),
                    ItemType::Instance(j) => j.index() < i,
                    ItemType::Resource(r) => r.index() < num_resources,
                    ItemType::Type => true,
                };
                if !ok {
                    return Err(format!(
                        "export `{name}` of instance type {i} refers to a type out of range"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Named fields of a record or parameters of a function.
type Fields = Box<[(String, InterfaceType)]>;
/// Cases of a variant.
type Cases = Box<[(String, Option<InterfaceType>)]>;

/// Interns component types, computing each layout once.
///
/// Children must be interned before their parents (as any bottom-up conversion does); the
/// result of [`Self::finish`] then passes [`ComponentTypes::validate`] as long as nesting stays
/// within [`MAX_TYPE_DEPTH`], which the caller checks with [`Self::depth`].
#[derive(Debug, Default)]
pub struct ComponentTypesBuilder {
    types: ComponentTypes,
    lists: BTreeMap<InterfaceType, TypeListIndex>,
    records: BTreeMap<Fields, TypeRecordIndex>,
    tuples: BTreeMap<Box<[InterfaceType]>, TypeTupleIndex>,
    variants: BTreeMap<Cases, TypeVariantIndex>,
    enums: BTreeMap<Box<[String]>, TypeEnumIndex>,
    options: BTreeMap<InterfaceType, TypeOptionIndex>,
    results: BTreeMap<(Option<InterfaceType>, Option<InterfaceType>), TypeResultIndex>,
    flags: BTreeMap<Box<[String]>, TypeFlagsIndex>,
    funcs: BTreeMap<(Fields, Option<InterfaceType>), TypeFuncIndex>,
    instances: BTreeMap<Vec<(String, ItemType)>, TypeInstanceIndex>,
    depths: BTreeMap<InterfaceType, u32>,
}

impl ComponentTypesBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tables built so far (for layouts during building).
    pub fn types(&self) -> &ComponentTypes {
        &self.types
    }

    /// The tables.
    pub fn finish(self) -> ComponentTypes {
        self.types
    }

    /// Nesting depth of `ty` (1 for a scalar); compare it with [`MAX_TYPE_DEPTH`].
    pub fn depth(&self, ty: &InterfaceType) -> u32 {
        self.depths.get(ty).copied().unwrap_or(1)
    }

    /// `list<element>`.
    pub fn list(&mut self, element: InterfaceType) -> InterfaceType {
        let depth = self.depth(&element);
        let types = &mut self.types.lists;
        let index = *self.lists.entry(element).or_insert_with(|| {
            types.push(TypeList { element });
            TypeListIndex::new(types.len() - 1)
        });
        self.typed(InterfaceType::List(index), depth)
    }

    /// `record { fields }`.
    pub fn record(&mut self, fields: Box<[(String, InterfaceType)]>) -> InterfaceType {
        let depth = self.max_depth(fields.iter().map(|(_, ty)| ty));
        let abis: Vec<_> = fields
            .iter()
            .map(|(_, ty)| self.types.canonical_abi(ty))
            .collect();
        let types = &mut self.types.records;
        let index = *self.records.entry(fields.clone()).or_insert_with(|| {
            let abi = CanonicalAbiInfo::record(&abis);
            types.push(TypeRecord { fields, abi });
            TypeRecordIndex::new(types.len() - 1)
        });
        self.typed(InterfaceType::Record(index), depth)
    }

    /// `tuple<types>`.
    pub fn tuple(&mut self, elements: Box<[InterfaceType]>) -> InterfaceType {
        let depth = self.max_depth(elements.iter());
        let abis: Vec<_> = elements
            .iter()
            .map(|ty| self.types.canonical_abi(ty))
            .collect();
        let types = &mut self.types.tuples;
        let index = *self.tuples.entry(elements.clone()).or_insert_with(|| {
            let abi = CanonicalAbiInfo::record(&abis);
            types.push(TypeTuple {
                types: elements,
                abi,
            });
            TypeTupleIndex::new(types.len() - 1)
        });
        self.typed(InterfaceType::Tuple(index), depth)
    }

    /// `variant { cases }`.
    pub fn variant(&mut self, cases: Box<[(String, Option<InterfaceType>)]>) -> InterfaceType {
        let depth = self.max_depth(cases.iter().filter_map(|(_, ty)| ty.as_ref()));
        let abis: Vec<_> = cases
            .iter()
            .map(|(_, ty)| ty.map(|ty| self.types.canonical_abi(&ty)))
            .collect();
        let types = &mut self.types.variants;
        let index = *self.variants.entry(cases.clone()).or_insert_with(|| {
            let (info, abi) = VariantInfo::new(&abis);
            types.push(TypeVariant { cases, abi, info });
            TypeVariantIndex::new(types.len() - 1)
        });
        self.typed(InterfaceType::Variant(index), depth)
    }

    /// `enum { names }`.
    pub fn enumeration(&mut self, names: Box<[String]>) -> InterfaceType {
        let types = &mut self.types.enums;
        let index = *self.enums.entry(names.clone()).or_insert_with(|| {
            let (info, abi) = VariantInfo::enumeration(names.len());
            types.push(TypeEnum { names, abi, info });
            TypeEnumIndex::new(types.len() - 1)
        });
        self.typed(InterfaceType::Enum(index), 1)
    }

    /// `option<ty>`.
    pub fn option(&mut self, ty: InterfaceType) -> InterfaceType {
        let depth = self.depth(&ty);
        let some = self.types.canonical_abi(&ty);
        let types = &mut self.types.options;
        let index = *self.options.entry(ty).or_insert_with(|| {
            let (info, abi) = VariantInfo::new(&[None, Some(some)]);
            types.push(TypeOption { ty, abi, info });
            TypeOptionIndex::new(types.len() - 1)
        });
        self.typed(InterfaceType::Option(index), depth)
    }

    /// `result<ok, err>` (either payload optional).
    pub fn result(
        &mut self,
        ok: Option<InterfaceType>,
        err: Option<InterfaceType>,
    ) -> InterfaceType {
        let depth = self.max_depth(ok.iter().chain(err.iter()));
        let abis = [ok, err].map(|ty| ty.map(|ty| self.types.canonical_abi(&ty)));
        let types = &mut self.types.results;
        let index = *self.results.entry((ok, err)).or_insert_with(|| {
            let (info, abi) = VariantInfo::new(&abis);
            types.push(TypeResult { ok, err, abi, info });
            TypeResultIndex::new(types.len() - 1)
        });
        self.typed(InterfaceType::Result(index), depth)
    }

    /// `flags { names }`.
    pub fn flags(&mut self, names: Box<[String]>) -> InterfaceType {
        let types = &mut self.types.flags;
        let index = *self.flags.entry(names.clone()).or_insert_with(|| {
            let abi = CanonicalAbiInfo::flags(names.len());
            types.push(TypeFlags { names, abi });
            TypeFlagsIndex::new(types.len() - 1)
        });
        self.typed(InterfaceType::Flags(index), 1)
    }

    /// `func(params) -> result`.
    pub fn func(
        &mut self,
        params: Box<[(String, InterfaceType)]>,
        result: Option<InterfaceType>,
    ) -> TypeFuncIndex {
        let abis: Vec<_> = params
            .iter()
            .map(|(_, ty)| self.types.canonical_abi(ty))
            .collect();
        let results_abi = match &result {
            Some(ty) => CanonicalAbiInfo::record(&[self.types.canonical_abi(ty)]),
            None => CanonicalAbiInfo::ZERO,
        };
        let types = &mut self.types.funcs;
        *self
            .funcs
            .entry((params.clone(), result))
            .or_insert_with(|| {
                let params_abi = CanonicalAbiInfo::record(&abis);
                types.push(TypeFunc {
                    params,
                    result,
                    params_abi,
                    results_abi,
                });
                TypeFuncIndex::new(types.len() - 1)
            })
    }

    /// `instance { exports }`.
    pub fn instance(&mut self, exports: Vec<(String, ItemType)>) -> TypeInstanceIndex {
        let types = &mut self.types.instances;
        *self.instances.entry(exports.clone()).or_insert_with(|| {
            types.push(TypeInstance { exports });
            TypeInstanceIndex::new(types.len() - 1)
        })
    }

    fn max_depth<'a>(&self, children: impl Iterator<Item = &'a InterfaceType>) -> u32 {
        children.map(|ty| self.depth(ty)).max().unwrap_or(0)
    }

    /// Records the depth of a compound type whose deepest child has `child_depth`.
    fn typed(&mut self, ty: InterfaceType, child_depth: u32) -> InterfaceType {
        self.depths.insert(ty, child_depth.saturating_add(1));
        ty
    }
}

/// Load-time checker of [`ComponentTypes`]: every compound value type is a node, numbered
/// table after table; nodes are visited depth-first with an explicit stack (no recursion, so a
/// corrupt artifact cannot overflow the stack), which also finds cycles.
struct Checker<'a> {
    types: &'a ComponentTypes,
    num_resources: usize,
    /// First node of each table (lists, records, tuples, variants, enums, options, results,
    /// flags), and the total at the end.
    bases: [usize; 9],
    /// Layout and depth of each finished node.
    done: Vec<Option<(CanonicalAbiInfo, u32)>>,
    /// Nodes whose children are being visited.
    active: Vec<bool>,
}

impl<'a> Checker<'a> {
    fn new(types: &'a ComponentTypes, num_resources: usize) -> Self {
        let lens = [
            types.lists.len(),
            types.records.len(),
            types.tuples.len(),
            types.variants.len(),
            types.enums.len(),
            types.options.len(),
            types.results.len(),
            types.flags.len(),
        ];
        let mut bases = [0; 9];
        for (i, len) in lens.iter().enumerate() {
            bases[i + 1] = bases[i] + len;
        }
        Self {
            types,
            num_resources,
            bases,
            done: vec![None; bases[8]],
            active: vec![false; bases[8]],
        }
    }

    fn num_nodes(&self) -> usize {
        self.bases[8]
    }

    /// The node of a compound type, `None` for a scalar; an error if out of range.
    fn node(&self, ty: &InterfaceType) -> Result<Option<usize>, String> {
        let (table, index) = match *ty {
            InterfaceType::List(i) => (0, i.index()),
            InterfaceType::Record(i) => (1, i.index()),
            InterfaceType::Tuple(i) => (2, i.index()),
            InterfaceType::Variant(i) => (3, i.index()),
            InterfaceType::Enum(i) => (4, i.index()),
            InterfaceType::Option(i) => (5, i.index()),
            InterfaceType::Result(i) => (6, i.index()),
            InterfaceType::Flags(i) => (7, i.index()),
            InterfaceType::Own(r) | InterfaceType::Borrow(r) => {
                return if r.index() < self.num_resources {
                    Ok(None)
                } else {
                    Err(format!("resource {} out of range", r.0))
                };
            }
            _ => return Ok(None),
        };
        let node = self.bases[table] + index;
        if node < self.bases[table + 1] {
            Ok(Some(node))
        } else {
            Err(format!("type {ty:?} out of range"))
        }
    }

    /// The child types of `node`.
    fn children(&self, node: usize) -> Vec<InterfaceType> {
        let t = self.types;
        let (table, i) = self.locate(node);
        match table {
            0 => vec![t.lists[i].element],
            1 => t.records[i].fields.iter().map(|(_, ty)| *ty).collect(),
            2 => t.tuples[i].types.to_vec(),
            3 => t.variants[i]
                .cases
                .iter()
                .filter_map(|(_, ty)| *ty)
                .collect(),
            5 => vec![t.options[i].ty],
            6 => t.results[i]
                .ok
                .into_iter()
                .chain(t.results[i].err)
                .collect(),
            _ => Vec::new(),
        }
    }

    fn locate(&self, node: usize) -> (usize, usize) {
        let table = self.bases.partition_point(|&base| base <= node) - 1;
        (table, node - self.bases[table])
    }

    /// Layout and depth of a value type whose node (if any) is finished.
    fn finished(&self, ty: &InterfaceType) -> Result<(CanonicalAbiInfo, u32), String> {
        match self.node(ty)? {
            Some(node) => self.done[node].ok_or_else(|| "type graph out of order".into()),
            None => Ok((self.types.canonical_abi(ty), 1)),
        }
    }

    /// Layout of a value type used by a function, once every node is finished.
    fn value_abi(&self, ty: &InterfaceType) -> Result<CanonicalAbiInfo, String> {
        Ok(self.finished(ty)?.0)
    }

    /// Finishes `root` and everything it reaches.
    fn visit(&mut self, root: usize) -> Result<(), String> {
        let mut stack = vec![(root, false)];
        while let Some((node, expanded)) = stack.pop() {
            if self.done[node].is_some() {
                continue;
            }
            if expanded {
                let finished = self.finish(node)?;
                self.done[node] = Some(finished);
                self.active[node] = false;
                continue;
            }
            if self.active[node] {
                return Err("recursive type definition".into());
            }
            self.active[node] = true;
            stack.push((node, true));
            for child in self.children(node) {
                if let Some(child) = self.node(&child)? {
                    if self.active[child] {
                        return Err("recursive type definition".into());
                    }
                    if self.done[child].is_none() {
                        stack.push((child, false));
                    }
                }
            }
        }
        Ok(())
    }

    /// Recomputes the layout of `node` from its finished children and compares it with the
    /// stored one.
    fn finish(&self, node: usize) -> Result<(CanonicalAbiInfo, u32), String> {
        let t = self.types;
        let (table, i) = self.locate(node);
        let mut depth = 0;
        let mut child = |ty: &InterfaceType| -> Result<CanonicalAbiInfo, String> {
            let (abi, d) = self.finished(ty)?;
            depth = depth.max(d);
            Ok(abi)
        };
        let (computed, stored) = match table {
            0 => {
                child(&t.lists[i].element)?;
                let abi = CanonicalAbiInfo::POINTER_PAIR;
                ((abi, None), (abi, None))
            }
            1 => {
                let abis = collect(t.records[i].fields.iter().map(|(_, ty)| child(ty)))?;
                let record = &t.records[i];
                ((CanonicalAbiInfo::record(&abis), None), (record.abi, None))
            }
            2 => {
                let abis = collect(t.tuples[i].types.iter().map(&mut child))?;
                (
                    (CanonicalAbiInfo::record(&abis), None),
                    (t.tuples[i].abi, None),
                )
            }
            3 => {
                let v = &t.variants[i];
                let abis = collect(
                    v.cases
                        .iter()
                        .map(|(_, ty)| ty.as_ref().map(&mut child).transpose()),
                )?;
                check_cases(v.cases.len())?;
                let (info, abi) = VariantInfo::new(&abis);
                ((abi, Some(info)), (v.abi, Some(v.info)))
            }
            4 => {
                let e = &t.enums[i];
                check_cases(e.names.len())?;
                let (info, abi) = VariantInfo::enumeration(e.names.len());
                ((abi, Some(info)), (e.abi, Some(e.info)))
            }
            5 => {
                let o = &t.options[i];
                let (info, abi) = VariantInfo::new(&[None, Some(child(&o.ty)?)]);
                ((abi, Some(info)), (o.abi, Some(o.info)))
            }
            6 => {
                let r = &t.results[i];
                let ok = r.ok.as_ref().map(&mut child).transpose()?;
                let err = r.err.as_ref().map(&mut child).transpose()?;
                let (info, abi) = VariantInfo::new(&[ok, err]);
                ((abi, Some(info)), (r.abi, Some(r.info)))
            }
            _ => {
                let f = &t.flags[i];
                let abi = CanonicalAbiInfo::flags(f.names.len());
                ((abi, None), (f.abi, None))
            }
        };
        if computed != stored {
            return Err(format!("{} has a wrong layout", self.describe(node)));
        }
        if computed.0.size32 >= MAX_TYPE_SIZE {
            return Err(format!("{} is too large", self.describe(node)));
        }
        let depth = depth + 1;
        if depth > MAX_TYPE_DEPTH {
            return Err(format!(
                "{} is nested more than {MAX_TYPE_DEPTH} levels deep",
                self.describe(node)
            ));
        }
        Ok((computed.0, depth))
    }

    fn describe(&self, node: usize) -> String {
        const TABLES: [&str; 8] = [
            "list", "record", "tuple", "variant", "enum", "option", "result", "flags",
        ];
        let (table, i) = self.locate(node);
        format!("{} type {i}", TABLES[table])
    }
}

fn collect<T>(items: impl Iterator<Item = Result<T, String>>) -> Result<Vec<T>, String> {
    items.collect()
}

fn check_cases(count: usize) -> Result<(), String> {
    match super::abi::DiscriminantSize::from_count(count) {
        Some(_) => Ok(()),
        None => Err(format!("a variant or enum with {count} cases")),
    }
}

struct DisplayType<'a> {
    types: &'a ComponentTypes,
    ty: InterfaceType,
}

impl fmt::Display for DisplayType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.types;
        let show = |ty: &InterfaceType| DisplayType { types: t, ty: *ty };
        const INVALID: &str = "<invalid>";
        match self.ty {
            InterfaceType::Bool => f.write_str("bool"),
            InterfaceType::S8 => f.write_str("s8"),
            InterfaceType::U8 => f.write_str("u8"),
            InterfaceType::S16 => f.write_str("s16"),
            InterfaceType::U16 => f.write_str("u16"),
            InterfaceType::S32 => f.write_str("s32"),
            InterfaceType::U32 => f.write_str("u32"),
            InterfaceType::S64 => f.write_str("s64"),
            InterfaceType::U64 => f.write_str("u64"),
            InterfaceType::F32 => f.write_str("f32"),
            InterfaceType::F64 => f.write_str("f64"),
            InterfaceType::Char => f.write_str("char"),
            InterfaceType::String => f.write_str("string"),
            InterfaceType::Own(r) => write!(f, "own<resource{}>", r.0),
            InterfaceType::Borrow(r) => write!(f, "borrow<resource{}>", r.0),
            InterfaceType::List(i) => match t.lists.get(i.index()) {
                Some(list) => write!(f, "list<{}>", show(&list.element)),
                None => f.write_str(INVALID),
            },
            InterfaceType::Record(i) => match t.records.get(i.index()) {
                Some(record) => {
                    f.write_str("record {")?;
                    for (k, (name, ty)) in record.fields.iter().enumerate() {
                        let sep = if k == 0 { " " } else { ", " };
                        write!(f, "{sep}{name}: {}", show(ty))?;
                    }
                    f.write_str(" }")
                }
                None => f.write_str(INVALID),
            },
            InterfaceType::Tuple(i) => match t.tuples.get(i.index()) {
                Some(tuple) => {
                    f.write_str("tuple<")?;
                    for (k, ty) in tuple.types.iter().enumerate() {
                        let sep = if k == 0 { "" } else { ", " };
                        write!(f, "{sep}{}", show(ty))?;
                    }
                    f.write_str(">")
                }
                None => f.write_str(INVALID),
            },
            InterfaceType::Variant(i) => match t.variants.get(i.index()) {
                Some(variant) => {
                    f.write_str("variant {")?;
                    for (k, (name, ty)) in variant.cases.iter().enumerate() {
                        let sep = if k == 0 { " " } else { ", " };
                        match ty {
                            Some(ty) => write!(f, "{sep}{name}({})", show(ty))?,
                            None => write!(f, "{sep}{name}")?,
                        }
                    }
                    f.write_str(" }")
                }
                None => f.write_str(INVALID),
            },
            InterfaceType::Enum(i) => match t.enums.get(i.index()) {
                Some(e) => write_names(f, "enum", &e.names),
                None => f.write_str(INVALID),
            },
            InterfaceType::Flags(i) => match t.flags.get(i.index()) {
                Some(flags) => write_names(f, "flags", &flags.names),
                None => f.write_str(INVALID),
            },
            InterfaceType::Option(i) => match t.options.get(i.index()) {
                Some(option) => write!(f, "option<{}>", show(&option.ty)),
                None => f.write_str(INVALID),
            },
            InterfaceType::Result(i) => match t.results.get(i.index()) {
                Some(TypeResult { ok, err, .. }) => match (ok, err) {
                    (None, None) => f.write_str("result"),
                    (Some(ok), None) => write!(f, "result<{}>", show(ok)),
                    (None, Some(err)) => write!(f, "result<_, {}>", show(err)),
                    (Some(ok), Some(err)) => write!(f, "result<{}, {}>", show(ok), show(err)),
                },
                None => f.write_str(INVALID),
            },
        }
    }
}

fn write_names(f: &mut fmt::Formatter<'_>, kind: &str, names: &[String]) -> fmt::Result {
    write!(f, "{kind} {{")?;
    for (k, name) in names.iter().enumerate() {
        let sep = if k == 0 { " " } else { ", " };
        write!(f, "{sep}{name}")?;
    }
    f.write_str(if names.is_empty() { "}" } else { " }" })
}

struct DisplayFunc<'a> {
    types: &'a ComponentTypes,
    func: TypeFuncIndex,
}

impl fmt::Display for DisplayFunc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(func) = self.types.funcs.get(self.func.index()) else {
            return f.write_str("<invalid>");
        };
        f.write_str("func(")?;
        for (k, (name, ty)) in func.params.iter().enumerate() {
            let sep = if k == 0 { "" } else { ", " };
            write!(f, "{sep}{name}: {}", self.types.display(ty))?;
        }
        f.write_str(")")?;
        if let Some(result) = &func.result {
            write!(f, " -> {}", self.types.display(result))?;
        }
        Ok(())
    }
}
