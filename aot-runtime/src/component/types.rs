//! Public reflection of component types: [`Type`] (a value type together with the tables it
//! indexes) and [`ComponentFunc`] (a function type). They back `Func::params`/`results`,
//! `Component::imports`/`exports` and WAVE (`wave.rs`).
//!
//! Both hold an `Arc` of their component's [`ComponentTypes`], so they are cheap to clone and
//! outlive the component. Equality of [`Type`]s is structural, so types of two components
//! compare equal when they describe the same values. Resources are not reflected yet: `own` and
//! `borrow` report their [`TypeKind`] and nothing more.

use super::typed::TypeMismatch;
use super::values::{Val, typecheck_val};
use crate::artifact::component::{ComponentTypes, InterfaceType, TypeFunc, TypeFuncIndex};
use crate::prelude::*;
use core::fmt;

/// What kind of value a [`Type`] describes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TypeKind {
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
    Float32,
    /// `f64`.
    Float64,
    /// `char`.
    Char,
    /// `string`.
    String,
    /// `list<T>`.
    List,
    /// `record { .. }`.
    Record,
    /// `tuple<..>`.
    Tuple,
    /// `variant { .. }`.
    Variant,
    /// `enum { .. }`.
    Enum,
    /// `option<T>`.
    Option,
    /// `result<T, E>`.
    Result,
    /// `flags { .. }`.
    Flags,
    /// `own<R>`.
    Own,
    /// `borrow<R>`.
    Borrow,
}

/// A component-model value type. `Display` is WIT-like (`list<tuple<u8, string>>`,
/// `record { x: u32 }`).
#[derive(Clone)]
pub struct Type {
    types: Arc<ComponentTypes>,
    ty: InterfaceType,
}

impl Type {
    /// `ty` of the component whose tables are `types`.
    pub(crate) fn new(types: Arc<ComponentTypes>, ty: InterfaceType) -> Type {
        Type { types, ty }
    }

    fn wrap(&self, ty: InterfaceType) -> Type {
        Type::new(self.types.clone(), ty)
    }

    /// The kind of the type.
    pub fn kind(&self) -> TypeKind {
        use InterfaceType as T;
        match self.ty {
            T::Bool => TypeKind::Bool,
            T::S8 => TypeKind::S8,
            T::U8 => TypeKind::U8,
            T::S16 => TypeKind::S16,
            T::U16 => TypeKind::U16,
            T::S32 => TypeKind::S32,
            T::U32 => TypeKind::U32,
            T::S64 => TypeKind::S64,
            T::U64 => TypeKind::U64,
            T::F32 => TypeKind::Float32,
            T::F64 => TypeKind::Float64,
            T::Char => TypeKind::Char,
            T::String => TypeKind::String,
            T::List(_) => TypeKind::List,
            T::Record(_) => TypeKind::Record,
            T::Tuple(_) => TypeKind::Tuple,
            T::Variant(_) => TypeKind::Variant,
            T::Enum(_) => TypeKind::Enum,
            T::Option(_) => TypeKind::Option,
            T::Result(_) => TypeKind::Result,
            T::Flags(_) => TypeKind::Flags,
            T::Own(_) => TypeKind::Own,
            T::Borrow(_) => TypeKind::Borrow,
        }
    }

    /// The element type of a `list<T>`; `None` for any other kind.
    pub fn list_element(&self) -> Option<Type> {
        match self.ty {
            InterfaceType::List(i) => Some(self.wrap(self.types.lists.get(i.index())?.element)),
            _ => None,
        }
    }

    /// The fields of a record, in order (empty for any other kind).
    pub fn record_fields(&self) -> impl ExactSizeIterator<Item = (&str, Type)> + '_ {
        let fields: &[(String, InterfaceType)] = match self.ty {
            InterfaceType::Record(i) => {
                self.types.records.get(i.index()).map_or(&[], |r| &r.fields)
            }
            _ => &[],
        };
        fields
            .iter()
            .map(|(name, ty)| (name.as_str(), self.wrap(*ty)))
    }

    /// The element types of a tuple, in order (empty for any other kind).
    pub fn tuple_types(&self) -> impl ExactSizeIterator<Item = Type> + '_ {
        let tys: &[InterfaceType] = match self.ty {
            InterfaceType::Tuple(i) => self.types.tuples.get(i.index()).map_or(&[], |t| &t.types),
            _ => &[],
        };
        tys.iter().map(|ty| self.wrap(*ty))
    }

    /// The cases of a variant with their payload types, in order (empty for any other kind).
    pub fn variant_cases(&self) -> impl ExactSizeIterator<Item = (&str, Option<Type>)> + '_ {
        let cases: &[(String, Option<InterfaceType>)] = match self.ty {
            InterfaceType::Variant(i) => {
                self.types.variants.get(i.index()).map_or(&[], |v| &v.cases)
            }
            _ => &[],
        };
        cases
            .iter()
            .map(|(name, ty)| (name.as_str(), ty.map(|ty| self.wrap(ty))))
    }

    /// The cases of an enum, in order (empty for any other kind).
    pub fn enum_names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        let names: &[String] = match self.ty {
            InterfaceType::Enum(i) => self.types.enums.get(i.index()).map_or(&[], |e| &e.names),
            _ => &[],
        };
        names.iter().map(String::as_str)
    }

    /// The payload type of an `option<T>`; `None` for any other kind.
    pub fn option_some(&self) -> Option<Type> {
        match self.ty {
            InterfaceType::Option(i) => Some(self.wrap(self.types.options.get(i.index())?.ty)),
            _ => None,
        }
    }

    /// The `ok` and `error` payload types of a `result<T, E>`, each optional; `None` for any
    /// other kind.
    pub fn result_types(&self) -> Option<(Option<Type>, Option<Type>)> {
        match self.ty {
            InterfaceType::Result(i) => {
                let result = self.types.results.get(i.index())?;
                Some((
                    result.ok.map(|ty| self.wrap(ty)),
                    result.err.map(|ty| self.wrap(ty)),
                ))
            }
            _ => None,
        }
    }

    /// The labels of flags, in order (empty for any other kind).
    pub fn flags_names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        let names: &[String] = match self.ty {
            InterfaceType::Flags(i) => self.types.flags.get(i.index()).map_or(&[], |f| &f.names),
            _ => &[],
        };
        names.iter().map(String::as_str)
    }

    /// Checks that `val` is a value of this type.
    ///
    /// # Errors
    /// A [`TypeMismatch`] naming this type and what `val` is.
    pub fn typecheck(&self, val: &Val) -> Result<(), TypeMismatch> {
        typecheck_val(val, &self.ty, &self.types)
    }
}

impl PartialEq for Type {
    fn eq(&self, other: &Type) -> bool {
        same_type(&self.types, self.ty, &other.types, other.ty)
    }
}

impl Eq for Type {}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.types.display(&self.ty), f)
    }
}

impl fmt::Debug for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Type({self})")
    }
}

/// Structural equality of two types of possibly different components. Handles are equal only
/// within one component (resources are nominal).
fn same_type(
    a: &Arc<ComponentTypes>,
    x: InterfaceType,
    b: &Arc<ComponentTypes>,
    y: InterfaceType,
) -> bool {
    use InterfaceType as T;
    let same = |x: &InterfaceType, y: &InterfaceType| same_type(a, *x, b, *y);
    let same_opt = |x: &Option<InterfaceType>, y: &Option<InterfaceType>| match (x, y) {
        (Some(x), Some(y)) => same(x, y),
        (None, None) => true,
        _ => false,
    };
    match (x, y) {
        (T::List(i), T::List(j)) => match (a.lists.get(i.index()), b.lists.get(j.index())) {
            (Some(l), Some(m)) => same(&l.element, &m.element),
            _ => false,
        },
        (T::Record(i), T::Record(j)) => {
            match (a.records.get(i.index()), b.records.get(j.index())) {
                (Some(r), Some(s)) => {
                    r.fields.len() == s.fields.len()
                        && r.fields
                            .iter()
                            .zip(s.fields.iter())
                            .all(|((n, t), (m, u))| n == m && same(t, u))
                }
                _ => false,
            }
        }
        (T::Tuple(i), T::Tuple(j)) => match (a.tuples.get(i.index()), b.tuples.get(j.index())) {
            (Some(r), Some(s)) => {
                r.types.len() == s.types.len()
                    && r.types.iter().zip(s.types.iter()).all(|(t, u)| same(t, u))
            }
            _ => false,
        },
        (T::Variant(i), T::Variant(j)) => {
            match (a.variants.get(i.index()), b.variants.get(j.index())) {
                (Some(r), Some(s)) => {
                    r.cases.len() == s.cases.len()
                        && r.cases
                            .iter()
                            .zip(s.cases.iter())
                            .all(|((n, t), (m, u))| n == m && same_opt(t, u))
                }
                _ => false,
            }
        }
        (T::Enum(i), T::Enum(j)) => match (a.enums.get(i.index()), b.enums.get(j.index())) {
            (Some(r), Some(s)) => r.names == s.names,
            _ => false,
        },
        (T::Flags(i), T::Flags(j)) => match (a.flags.get(i.index()), b.flags.get(j.index())) {
            (Some(r), Some(s)) => r.names == s.names,
            _ => false,
        },
        (T::Option(i), T::Option(j)) => {
            match (a.options.get(i.index()), b.options.get(j.index())) {
                (Some(r), Some(s)) => same(&r.ty, &s.ty),
                _ => false,
            }
        }
        (T::Result(i), T::Result(j)) => {
            match (a.results.get(i.index()), b.results.get(j.index())) {
                (Some(r), Some(s)) => same_opt(&r.ok, &s.ok) && same_opt(&r.err, &s.err),
                _ => false,
            }
        }
        (T::Own(r), T::Own(s)) | (T::Borrow(r), T::Borrow(s)) => Arc::ptr_eq(a, b) && r == s,
        _ => x == y && !matches!(x, T::Own(_) | T::Borrow(_)),
    }
}

/// A component function type: named parameters and an optional result. `Display` is
/// `func(name: string) -> string`.
#[derive(Clone)]
pub struct ComponentFunc {
    types: Arc<ComponentTypes>,
    index: TypeFuncIndex,
}

impl ComponentFunc {
    /// Function type `index` of the component whose tables are `types`.
    pub(crate) fn new(types: Arc<ComponentTypes>, index: TypeFuncIndex) -> ComponentFunc {
        ComponentFunc { types, index }
    }

    fn func(&self) -> Option<&TypeFunc> {
        self.types.funcs.get(self.index.index())
    }

    fn wrap(&self, ty: InterfaceType) -> Type {
        Type::new(self.types.clone(), ty)
    }

    /// The parameters, with their names, in order.
    pub fn params(&self) -> impl ExactSizeIterator<Item = (&str, Type)> + '_ {
        let params: &[(String, InterfaceType)] = self.func().map_or(&[], |f| &f.params);
        params
            .iter()
            .map(|(name, ty)| (name.as_str(), self.wrap(*ty)))
    }

    /// The result type, if the function returns a value.
    pub fn result(&self) -> Option<Type> {
        Some(self.wrap(self.func()?.result?))
    }

    /// The result types: none or one.
    pub fn results(&self) -> impl ExactSizeIterator<Item = Type> + '_ {
        self.result().into_iter()
    }
}

impl fmt::Display for ComponentFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.types.display_func(self.index), f)
    }
}

impl fmt::Debug for ComponentFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ComponentFunc({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::component::{ComponentTypesBuilder, InterfaceType as T, ResourceIndex};

    #[test]
    fn reflection() {
        let mut b = ComponentTypesBuilder::new();
        let strings = b.list(T::String);
        let point = b.record(Box::new([("x".into(), T::S32), ("y".into(), strings)]));
        let opt = b.option(point);
        let res = b.result(None, Some(T::U8));
        let v = b.variant(Box::new([("a".into(), None), ("b".into(), Some(T::F32))]));
        let e = b.enumeration(Box::new(["lo".into(), "hi".into()]));
        let f = b.flags(Box::new(["r".into(), "w".into()]));
        let tuple = b.tuple(Box::new([T::Char, T::Bool]));
        let func = b.func(
            Box::new([("p".into(), opt), ("q".into(), tuple)]),
            Some(res),
        );
        let types = Arc::new(b.finish());
        let ty = |t| Type::new(types.clone(), t);

        assert_eq!(
            ty(opt).to_string(),
            "option<record { x: s32, y: list<string> }>"
        );
        assert_eq!(ty(opt).kind(), TypeKind::Option);
        let record = ty(opt).option_some().unwrap();
        let fields: Vec<(&str, Type)> = record.record_fields().collect();
        assert_eq!(fields[0].0, "x");
        assert_eq!(fields[1].1.list_element().unwrap().kind(), TypeKind::String);
        assert_eq!(ty(res).result_types(), Some((None, Some(ty(T::U8)))));
        let variant = ty(v);
        let cases: Vec<_> = variant.variant_cases().collect();
        assert_eq!(cases, [("a", None), ("b", Some(ty(T::F32)))]);
        assert!(ty(e).enum_names().eq(["lo", "hi"]));
        assert!(ty(f).flags_names().eq(["r", "w"]));
        assert_eq!(ty(tuple).tuple_types().len(), 2);
        // Accessors of another kind are empty.
        assert_eq!(ty(T::U8).record_fields().len(), 0);
        assert!(ty(T::U8).list_element().is_none());
        assert_eq!(ty(T::Own(ResourceIndex(0))).kind(), TypeKind::Own);

        let func = ComponentFunc::new(types.clone(), func);
        assert_eq!(
            func.to_string(),
            "func(p: option<record { x: s32, y: list<string> }>, q: tuple<char, bool>) -> \
             result<_, u8>"
        );
        let params: Vec<&str> = func.params().map(|(name, _)| name).collect();
        assert_eq!(params, ["p", "q"]);
        assert_eq!(func.result(), Some(ty(res)));
        assert_eq!(func.results().len(), 1);
    }

    #[test]
    fn structural_equality() {
        let mut a = ComponentTypesBuilder::new();
        let x = a.list(T::U8);
        let ra = a.record(Box::new([("f".into(), x)]));
        let mut b = ComponentTypesBuilder::new();
        let _unrelated = b.option(T::Bool);
        let y = b.list(T::U8);
        let rb = b.record(Box::new([("f".into(), y)]));
        let rc = b.record(Box::new([("g".into(), y)]));
        let (a, b) = (Arc::new(a.finish()), Arc::new(b.finish()));
        assert_eq!(Type::new(a.clone(), ra), Type::new(b.clone(), rb));
        assert_ne!(Type::new(a.clone(), ra), Type::new(b.clone(), rc));
        assert_ne!(Type::new(a.clone(), T::U8), Type::new(b.clone(), T::S8));
        // Resources are nominal: equal only within one component.
        let own = T::Own(ResourceIndex(0));
        assert_eq!(Type::new(a.clone(), own), Type::new(a.clone(), own));
        assert_ne!(Type::new(a, own), Type::new(b, own));
    }
}
