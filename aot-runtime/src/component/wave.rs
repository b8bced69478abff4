//! WAVE text for component values (feature `wave`): the `wasm_wave` traits for [`Val`]
//! ([`WasmValue`]), [`Type`] ([`WasmType`]) and [`ComponentFunc`] ([`WasmFunc`]), so that
//! `wasm_wave::to_string(&val)` prints any value and `wasm_wave::from_str::<Val>(&ty, "..")`
//! parses one of any type; `aot run --invoke` parses calls with them.
//!
//! Values built here are checked against their type as WAVE builds them (fields in the type's
//! order, known cases and flags, payloads present exactly when the case has one). `own` and
//! `borrow` are [`WasmTypeKind::Unsupported`]: WAVE has no resources, so parsing one is an error
//! naming the type.

use super::types::{ComponentFunc, Type, TypeKind};
use super::values::Val;
use crate::prelude::*;
use alloc::borrow::Cow;
use wasm_wave::wasm::{
    WasmFunc, WasmType, WasmTypeKind, WasmValue, WasmValueError, ensure_type_kind,
};

impl WasmType for Type {
    fn kind(&self) -> WasmTypeKind {
        match Type::kind(self) {
            TypeKind::Bool => WasmTypeKind::Bool,
            TypeKind::S8 => WasmTypeKind::S8,
            TypeKind::U8 => WasmTypeKind::U8,
            TypeKind::S16 => WasmTypeKind::S16,
            TypeKind::U16 => WasmTypeKind::U16,
            TypeKind::S32 => WasmTypeKind::S32,
            TypeKind::U32 => WasmTypeKind::U32,
            TypeKind::S64 => WasmTypeKind::S64,
            TypeKind::U64 => WasmTypeKind::U64,
            TypeKind::Float32 => WasmTypeKind::F32,
            TypeKind::Float64 => WasmTypeKind::F64,
            TypeKind::Char => WasmTypeKind::Char,
            TypeKind::String => WasmTypeKind::String,
            TypeKind::List => WasmTypeKind::List,
            TypeKind::Record => WasmTypeKind::Record,
            TypeKind::Tuple => WasmTypeKind::Tuple,
            TypeKind::Variant => WasmTypeKind::Variant,
            TypeKind::Enum => WasmTypeKind::Enum,
            TypeKind::Option => WasmTypeKind::Option,
            TypeKind::Result => WasmTypeKind::Result,
            TypeKind::Flags => WasmTypeKind::Flags,
            TypeKind::Own | TypeKind::Borrow => WasmTypeKind::Unsupported,
        }
    }

    fn list_element_type(&self) -> Option<Self> {
        self.list_element()
    }

    fn record_fields(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Self)> + '_> {
        Box::new(Type::record_fields(self).map(|(name, ty)| (Cow::Borrowed(name), ty)))
    }

    fn tuple_element_types(&self) -> Box<dyn Iterator<Item = Self> + '_> {
        Box::new(self.tuple_types())
    }

    fn variant_cases(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Option<Self>)> + '_> {
        Box::new(Type::variant_cases(self).map(|(name, ty)| (Cow::Borrowed(name), ty)))
    }

    fn enum_cases(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        Box::new(self.enum_names().map(Cow::Borrowed))
    }

    fn option_some_type(&self) -> Option<Self> {
        self.option_some()
    }

    fn result_types(&self) -> Option<(Option<Self>, Option<Self>)> {
        Type::result_types(self)
    }

    fn flags_names(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        Box::new(Type::flags_names(self).map(Cow::Borrowed))
    }

    fn map_key_value_types(&self) -> Option<(Self, Self)> {
        None
    }
}

impl WasmFunc for ComponentFunc {
    type Type = Type;

    fn params(&self) -> Box<dyn Iterator<Item = Type> + '_> {
        Box::new(ComponentFunc::params(self).map(|(_, ty)| ty))
    }

    fn param_names(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        Box::new(ComponentFunc::params(self).map(|(name, _)| Cow::Borrowed(name)))
    }

    fn results(&self) -> Box<dyn Iterator<Item = Type> + '_> {
        Box::new(ComponentFunc::results(self))
    }
}

/// The payload of `val` for a case whose payload type is `ty`.
fn payload(
    case: &str,
    ty: Option<Type>,
    val: Option<Val>,
) -> Result<Option<Box<Val>>, WasmValueError> {
    match (ty, val) {
        (Some(_), Some(val)) => Ok(Some(Box::new(val))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(WasmValueError::MissingPayload(case.into())),
        (None, Some(_)) => Err(WasmValueError::UnexpectedPayload(case.into())),
    }
}

/// Panics for an `unwrap_*` of another kind (the `WasmValue` contract: WAVE calls them only for
/// the kind [`WasmValue::kind`] reported).
#[cold]
fn wrong_kind(want: &str, val: &Val) -> ! {
    panic!("unwrap_{want} called on {val:?}")
}

macro_rules! unwrap_scalars {
    ($($name:ident: $variant:ident -> $t:ty;)*) => {$(
        fn $name(&self) -> $t {
            match self {
                Val::$variant(v) => *v,
                other => wrong_kind(stringify!($name), other),
            }
        }
    )*};
}

impl WasmValue for Val {
    type Type = Type;

    fn kind(&self) -> WasmTypeKind {
        match self {
            Val::Bool(_) => WasmTypeKind::Bool,
            Val::S8(_) => WasmTypeKind::S8,
            Val::U8(_) => WasmTypeKind::U8,
            Val::S16(_) => WasmTypeKind::S16,
            Val::U16(_) => WasmTypeKind::U16,
            Val::S32(_) => WasmTypeKind::S32,
            Val::U32(_) => WasmTypeKind::U32,
            Val::S64(_) => WasmTypeKind::S64,
            Val::U64(_) => WasmTypeKind::U64,
            Val::Float32(_) => WasmTypeKind::F32,
            Val::Float64(_) => WasmTypeKind::F64,
            Val::Char(_) => WasmTypeKind::Char,
            Val::String(_) => WasmTypeKind::String,
            Val::List(_) => WasmTypeKind::List,
            Val::Record(_) => WasmTypeKind::Record,
            Val::Tuple(_) => WasmTypeKind::Tuple,
            Val::Variant(..) => WasmTypeKind::Variant,
            Val::Enum(_) => WasmTypeKind::Enum,
            Val::Option(_) => WasmTypeKind::Option,
            Val::Result(_) => WasmTypeKind::Result,
            Val::Flags(_) => WasmTypeKind::Flags,
            // WAVE has no resources: printing one is an error naming the kind.
            Val::Resource(_) => WasmTypeKind::Unsupported,
        }
    }

    fn make_bool(val: bool) -> Self {
        Val::Bool(val)
    }

    fn make_s8(val: i8) -> Self {
        Val::S8(val)
    }

    fn make_s16(val: i16) -> Self {
        Val::S16(val)
    }

    fn make_s32(val: i32) -> Self {
        Val::S32(val)
    }

    fn make_s64(val: i64) -> Self {
        Val::S64(val)
    }

    fn make_u8(val: u8) -> Self {
        Val::U8(val)
    }

    fn make_u16(val: u16) -> Self {
        Val::U16(val)
    }

    fn make_u32(val: u32) -> Self {
        Val::U32(val)
    }

    fn make_u64(val: u64) -> Self {
        Val::U64(val)
    }

    fn make_f32(val: f32) -> Self {
        Val::Float32(val)
    }

    fn make_f64(val: f64) -> Self {
        Val::Float64(val)
    }

    fn make_char(val: char) -> Self {
        Val::Char(val)
    }

    fn make_string(val: Cow<'_, str>) -> Self {
        Val::String(val.into_owned())
    }

    fn make_list(
        ty: &Self::Type,
        vals: impl IntoIterator<Item = Self>,
    ) -> Result<Self, WasmValueError> {
        ensure_type_kind(ty, WasmTypeKind::List)?;
        Ok(Val::List(vals.into_iter().collect()))
    }

    fn make_record<'a>(
        ty: &Self::Type,
        fields: impl IntoIterator<Item = (&'a str, Self)>,
    ) -> Result<Self, WasmValueError> {
        ensure_type_kind(ty, WasmTypeKind::Record)?;
        let mut given: Vec<(&str, Option<Val>)> = fields
            .into_iter()
            .map(|(name, val)| (name, Some(val)))
            .collect();
        let mut record = Vec::with_capacity(given.len());
        for (name, _) in Type::record_fields(ty) {
            let val = given
                .iter_mut()
                .find(|(n, _)| *n == name)
                .and_then(|(_, val)| val.take())
                .ok_or_else(|| WasmValueError::MissingField(name.into()))?;
            record.push((name.to_string(), val));
        }
        if let Some((unknown, _)) = given.iter().find(|(_, val)| val.is_some()) {
            return Err(WasmValueError::UnknownField((*unknown).into()));
        }
        Ok(Val::Record(record))
    }

    fn make_tuple(
        ty: &Self::Type,
        vals: impl IntoIterator<Item = Self>,
    ) -> Result<Self, WasmValueError> {
        ensure_type_kind(ty, WasmTypeKind::Tuple)?;
        let vals: Vec<Val> = vals.into_iter().collect();
        let want = ty.tuple_types().len();
        if vals.len() != want {
            return Err(WasmValueError::WrongNumberOfTupleValues {
                want,
                got: vals.len(),
            });
        }
        Ok(Val::Tuple(vals))
    }

    fn make_variant(
        ty: &Self::Type,
        case: &str,
        val: Option<Self>,
    ) -> Result<Self, WasmValueError> {
        ensure_type_kind(ty, WasmTypeKind::Variant)?;
        let (_, case_ty) = Type::variant_cases(ty)
            .find(|(name, _)| *name == case)
            .ok_or_else(|| WasmValueError::UnknownCase(case.into()))?;
        Ok(Val::Variant(case.into(), payload(case, case_ty, val)?))
    }

    fn make_enum(ty: &Self::Type, case: &str) -> Result<Self, WasmValueError> {
        ensure_type_kind(ty, WasmTypeKind::Enum)?;
        if ty.enum_names().any(|name| name == case) {
            Ok(Val::Enum(case.into()))
        } else {
            Err(WasmValueError::UnknownCase(case.into()))
        }
    }

    fn make_option(ty: &Self::Type, val: Option<Self>) -> Result<Self, WasmValueError> {
        ensure_type_kind(ty, WasmTypeKind::Option)?;
        Ok(Val::Option(val.map(Box::new)))
    }

    fn make_result(
        ty: &Self::Type,
        val: Result<Option<Self>, Option<Self>>,
    ) -> Result<Self, WasmValueError> {
        ensure_type_kind(ty, WasmTypeKind::Result)?;
        let (ok, err) = Type::result_types(ty).unwrap_or((None, None));
        Ok(Val::Result(match val {
            Ok(val) => Ok(payload("ok", ok, val)?),
            Err(val) => Err(payload("error", err, val)?),
        }))
    }

    fn make_flags<'a>(
        ty: &Self::Type,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, WasmValueError> {
        ensure_type_kind(ty, WasmTypeKind::Flags)?;
        let names: Vec<&str> = names.into_iter().collect();
        if let Some(unknown) = names
            .iter()
            .find(|n| !Type::flags_names(ty).any(|l| l == **n))
        {
            return Err(WasmValueError::UnknownCase((*unknown).into()));
        }
        // In the type's order, each once.
        let set = Type::flags_names(ty)
            .filter(|label| names.contains(label))
            .map(String::from)
            .collect();
        Ok(Val::Flags(set))
    }

    unwrap_scalars! {
        unwrap_bool: Bool -> bool;
        unwrap_s8: S8 -> i8;
        unwrap_s16: S16 -> i16;
        unwrap_s32: S32 -> i32;
        unwrap_s64: S64 -> i64;
        unwrap_u8: U8 -> u8;
        unwrap_u16: U16 -> u16;
        unwrap_u32: U32 -> u32;
        unwrap_u64: U64 -> u64;
        unwrap_f32: Float32 -> f32;
        unwrap_f64: Float64 -> f64;
        unwrap_char: Char -> char;
    }

    fn unwrap_string(&self) -> Cow<'_, str> {
        match self {
            Val::String(s) => Cow::Borrowed(s),
            other => wrong_kind("string", other),
        }
    }

    fn unwrap_list(&self) -> Box<dyn Iterator<Item = Cow<'_, Self>> + '_> {
        match self {
            Val::List(items) => Box::new(items.iter().map(Cow::Borrowed)),
            other => wrong_kind("list", other),
        }
    }

    fn unwrap_record(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Cow<'_, Self>)> + '_> {
        match self {
            Val::Record(fields) => Box::new(
                fields
                    .iter()
                    .map(|(name, val)| (Cow::Borrowed(name.as_str()), Cow::Borrowed(val))),
            ),
            other => wrong_kind("record", other),
        }
    }

    fn unwrap_tuple(&self) -> Box<dyn Iterator<Item = Cow<'_, Self>> + '_> {
        match self {
            Val::Tuple(vals) => Box::new(vals.iter().map(Cow::Borrowed)),
            other => wrong_kind("tuple", other),
        }
    }

    fn unwrap_variant(&self) -> (Cow<'_, str>, Option<Cow<'_, Self>>) {
        match self {
            Val::Variant(case, payload) => {
                (Cow::Borrowed(case), payload.as_deref().map(Cow::Borrowed))
            }
            other => wrong_kind("variant", other),
        }
    }

    fn unwrap_enum(&self) -> Cow<'_, str> {
        match self {
            Val::Enum(case) => Cow::Borrowed(case),
            other => wrong_kind("enum", other),
        }
    }

    fn unwrap_option(&self) -> Option<Cow<'_, Self>> {
        match self {
            Val::Option(val) => val.as_deref().map(Cow::Borrowed),
            other => wrong_kind("option", other),
        }
    }

    fn unwrap_result(&self) -> Result<Option<Cow<'_, Self>>, Option<Cow<'_, Self>>> {
        match self {
            Val::Result(Ok(val)) => Ok(val.as_deref().map(Cow::Borrowed)),
            Val::Result(Err(val)) => Err(val.as_deref().map(Cow::Borrowed)),
            other => wrong_kind("result", other),
        }
    }

    fn unwrap_flags(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        match self {
            Val::Flags(names) => Box::new(names.iter().map(|n| Cow::Borrowed(n.as_str()))),
            other => wrong_kind("flags", other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::component::{ComponentTypesBuilder, InterfaceType as T, ResourceIndex};
    use wasm_wave::untyped::UntypedFuncCall;
    use wasm_wave::wasm::DisplayFunc;

    fn some(v: Val) -> Option<Box<Val>> {
        Some(Box::new(v))
    }

    #[test]
    fn text_round_trips() {
        let mut b = ComponentTypesBuilder::new();
        let bytes = b.list(T::U8);
        let strings = b.list(T::String);
        let opt_u32 = b.option(T::U32);
        let point = b.record(Box::new([
            ("x".into(), T::S32),
            ("label".into(), T::String),
            ("note".into(), opt_u32),
        ]));
        let tuple = b.tuple(Box::new([T::Char, T::F64]));
        let shape = b.variant(Box::new([
            ("circle".into(), Some(T::F32)),
            ("empty".into(), None),
        ]));
        let color = b.enumeration(Box::new(["red".into(), "dark-green".into()]));
        let res = b.result(Some(T::String), Some(T::U8));
        let res_bare = b.result(None, None);
        let perms = b.flags(Box::new(["read".into(), "write".into(), "exec".into()]));
        let nested = b.list(strings);
        let types = Arc::new(b.finish());
        let ty = |ty| Type::new(types.clone(), ty);
        let cases = [
            (T::Bool, Val::Bool(true), "true"),
            (T::S8, Val::S8(-8), "-8"),
            (T::U8, Val::U8(255), "255"),
            (T::S16, Val::S16(-16), "-16"),
            (T::U16, Val::U16(16), "16"),
            (T::S32, Val::S32(i32::MIN), "-2147483648"),
            (T::U32, Val::U32(32), "32"),
            (T::S64, Val::S64(-64), "-64"),
            (T::U64, Val::U64(u64::MAX), "18446744073709551615"),
            (T::F32, Val::Float32(1.5), "1.5"),
            (T::F64, Val::Float64(f64::NEG_INFINITY), "-inf"),
            (T::Char, Val::Char('€'), "'€'"),
            (T::Char, Val::Char('\''), r"'\''"),
            (T::String, Val::String("h\"i\n".into()), r#""h\"i\n""#),
            (bytes, Val::List(vec![Val::U8(1), Val::U8(2)]), "[1, 2]"),
            (nested, Val::List(vec![Val::List(vec![])]), "[[]]"),
            (
                point,
                Val::Record(vec![
                    ("x".into(), Val::S32(1)),
                    ("label".into(), Val::String("p".into())),
                    ("note".into(), Val::Option(None)),
                ]),
                r#"{x: 1, label: "p"}"#,
            ),
            (
                point,
                Val::Record(vec![
                    ("x".into(), Val::S32(-1)),
                    ("label".into(), Val::String("".into())),
                    ("note".into(), Val::Option(some(Val::U32(3)))),
                ]),
                r#"{x: -1, label: "", note: some(3)}"#,
            ),
            (
                tuple,
                Val::Tuple(vec![Val::Char('x'), Val::Float64(0.5)]),
                "('x', 0.5)",
            ),
            (
                shape,
                Val::Variant("circle".into(), some(Val::Float32(2.0))),
                "circle(2)",
            ),
            (shape, Val::Variant("empty".into(), None), "empty"),
            (color, Val::Enum("dark-green".into()), "dark-green"),
            (opt_u32, Val::Option(None), "none"),
            (opt_u32, Val::Option(some(Val::U32(1))), "some(1)"),
            (
                res,
                Val::Result(Ok(some(Val::String("ok".into())))),
                r#"ok("ok")"#,
            ),
            (res, Val::Result(Err(some(Val::U8(4)))), "err(4)"),
            (res_bare, Val::Result(Ok(None)), "ok"),
            (res_bare, Val::Result(Err(None)), "err"),
            (
                perms,
                Val::Flags(vec!["read".into(), "exec".into()]),
                "{read, exec}",
            ),
            (perms, Val::Flags(vec![]), "{}"),
        ];
        for (t, val, text) in cases {
            assert_eq!(wasm_wave::to_string(&val).unwrap(), text, "{val:?}");
            let parsed: Val = wasm_wave::from_str(&ty(t), text).unwrap();
            assert_eq!(parsed, val, "{text}");
            // The parsed value is of its type.
            ty(t).typecheck(&parsed).unwrap();
        }
        // Flags come back in the type's order, each once.
        let parsed: Val = wasm_wave::from_str(&ty(perms), "{exec, read}").unwrap();
        assert_eq!(parsed, Val::Flags(vec!["read".into(), "exec".into()]));
        // NaN prints as `nan` and parses back.
        let nan: Val = wasm_wave::from_str(&ty(T::F32), "nan").unwrap();
        assert_eq!(wasm_wave::to_string(&nan).unwrap(), "nan");
    }

    #[test]
    fn parse_errors() {
        let mut b = ComponentTypesBuilder::new();
        let color = b.enumeration(Box::new(["red".into()]));
        let point = b.record(Box::new([("x".into(), T::S32)]));
        let shape = b.variant(Box::new([("circle".into(), Some(T::F32))]));
        let types = Arc::new(b.finish());
        let parse = |t, text: &str| {
            wasm_wave::from_str::<Val>(&Type::new(types.clone(), t), text)
                .unwrap_err()
                .to_string()
        };
        let converting = "error converting Wasm value";
        assert_eq!(
            parse(color, "blue"),
            format!("{converting}: unknown case \"blue\" at 0..4")
        );
        assert_eq!(
            parse(point, "{y: 1}"),
            format!("{converting}: missing field \"x\" at 0..6")
        );
        assert_eq!(
            parse(shape, "circle"),
            format!("{converting}: missing payload for \"circle\" case at 0..6")
        );
        assert_eq!(parse(T::U8, "256"), "invalid value at 0..3");
        // WAVE has no resources: parsing one is an error (wasm-wave names the kind only).
        let own = Type::new(types.clone(), T::Own(ResourceIndex(0)));
        let err = wasm_wave::from_str::<Val>(&own, "1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unsupported type"), "{err}");
    }

    #[test]
    fn function_calls() {
        let mut b = ComponentTypesBuilder::new();
        let opt = b.option(T::U32);
        let f = b.func(
            Box::new([("name".into(), T::String), ("count".into(), opt)]),
            Some(T::String),
        );
        let types = Arc::new(b.finish());
        let func = ComponentFunc::new(types, f);
        assert_eq!(
            DisplayFunc(func.clone()).to_string(),
            "func(name: string, count: option<u32>) -> string"
        );
        let call = UntypedFuncCall::parse(r#"greet("wave", some(2))"#).unwrap();
        assert_eq!(call.name(), "greet");
        let params: Vec<Type> = WasmFunc::params(&func).collect();
        let args: Vec<Val> = call.to_wasm_params(&params).unwrap();
        assert_eq!(
            args,
            [Val::String("wave".into()), Val::Option(some(Val::U32(2)))]
        );
        // A trailing option may be omitted.
        let call = UntypedFuncCall::parse(r#"greet("wave")"#).unwrap();
        let args: Vec<Val> = call.to_wasm_params(&params).unwrap();
        assert_eq!(args[1], Val::Option(None));
        let results: Vec<Type> = WasmFunc::results(&func).collect();
        assert_eq!(results.len(), 1);
    }
}
