//! Canonical ABI round trips over random types and values (issue 6: canonical-ABI fuzzing).
//!
//! For each seed: a random component value type `T` (records, variants, enums, flags, lists,
//! tuples, options, results, strings, chars, every scalar, handles; nested), a generated
//! component that imports `host-echo: func(x: T) -> T` and exports `echo: func(x: T) -> T` (the
//! shape without handles), whose core code passes its flat arguments (or the spilled pointer)
//! straight to the lowered import and returns
//! what it got back (a value, or the return area the import filled). A random string encoding
//! is used for both the lift and the lower. Then random values of `T` go host -> guest (lower
//! into guest memory, through `realloc`) -> host (lift out of it) -> guest (lower the host
//! results) -> host (lift the export's results): the value the host import receives and the
//! value the call returns must both equal the original. The nested variant puts a second
//! component in front: its `echo` lowers the first one's, so the value also crosses a
//! guest -> guest adapter between two memories with two string encodings.
//!
//! Types may also hold handles (`own`, `borrow`) of a host resource `hr` (defined with
//! `LinkerInstance::resource`) and of a guest resource `gr` (defined by a provider component
//! nested in the tested one, which also exports `make(rep) -> own<gr>` and `rep-of(borrow<gr>)`).
//! Each seed picks a [`Mode`] saying which handles its type may hold, and so the shape of the
//! round trip: a host import cannot name a guest's resource type, and a borrow cannot come back
//! as a result. Handles are compared by their representation: the host gives fresh
//! representations to the handles it makes and reads them back from the handles it receives.
//!
//! The type generator, the flattening that decides the core signatures, the layout of the
//! single-value loads, and the values are all written from the specification (CanonicalABI.md),
//! independently of the runtime's code.

use aot_runtime::component::{Func, Linker, Resource, ResourceAny, ResourceType, Val};
use aot_runtime::{AsContextMut, Store};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The resource types of the handles.
#[derive(Copy, Clone, Debug, PartialEq)]
enum Res {
    /// `hr`, imported: the host's resource [`HostRes`].
    Host,
    /// `gr`, defined by the provider component nested in the tested one.
    Guest,
}

impl Res {
    fn name(self) -> &'static str {
        match self {
            Res::Host => "hr",
            Res::Guest => "gr",
        }
    }
}

/// The host resource type `hr`.
struct HostRes;

/// Which handles a seed's type may hold, and so the shape of its round trip.
#[derive(Copy, Clone, Debug, PartialEq)]
enum Mode {
    /// No handles: `echo(x: T) -> T` forwards to the host import `host-echo(x: T) -> T`.
    Plain,
    /// `own<hr>`: the same shape; `host-echo` reads the handles it gets and makes new ones of
    /// the same representations to return.
    HostOwn,
    /// `own<hr>` and `own<gr>`: `echo(x: T, pad) -> T` with no host import (an import cannot
    /// name `gr`); `pad` (16 `u32`s) spills the parameters to memory, so the guest answers by
    /// returning their pointer as the return area (or loading the one flat result from it).
    Own,
    /// `borrow<hr>` and `borrow<gr>`, no own: `check(kinds: list<u8>, x: T, pad) -> list<u32>`.
    /// The borrows are handles `1..=n` of the guest's table, in the order of the value
    /// (lowering order; the table is LIFO and every call drops `n..=1`); `kinds` says which
    /// type each is. The guest returns their representations, read through the host's
    /// `hr-rep(borrow<hr>)` and the provider's `rep-of(borrow<gr>)`, and drops them (as it must
    /// before returning). Nested, the outer guest forwards and then drops its own.
    Borrow,
}

impl Mode {
    /// The handle a leaf of the generated type may be, if any.
    fn handle(self, rng: &mut Rng) -> Option<Ty> {
        let res = if rng.chance(50) {
            Res::Host
        } else {
            Res::Guest
        };
        match self {
            Mode::Plain => None,
            Mode::HostOwn => Some(Ty::Own(Res::Host)),
            Mode::Own => Some(Ty::Own(res)),
            Mode::Borrow => Some(Ty::Borrow(res)),
        }
    }
}

/// A component value type, as the specification defines them.
#[derive(Clone, Debug)]
enum Ty {
    Bool,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
    S64,
    U64,
    F32,
    F64,
    Char,
    String,
    List(Box<Ty>),
    Record(Vec<(String, Ty)>),
    Tuple(Vec<Ty>),
    Variant(Vec<(String, Option<Ty>)>),
    Enum(Vec<String>),
    Option(Box<Ty>),
    Result(Option<Box<Ty>>, Option<Box<Ty>>),
    Flags(Vec<String>),
    Own(Res),
    Borrow(Res),
}

/// Core value types, for flattening.
#[derive(Copy, Clone, Debug, PartialEq)]
enum Core {
    I32,
    I64,
    F32,
    F64,
}

impl Core {
    fn wat(self) -> &'static str {
        match self {
            Core::I32 => "i32",
            Core::I64 => "i64",
            Core::F32 => "f32",
            Core::F64 => "f64",
        }
    }
}

fn labels(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn gen_ty(rng: &mut Rng, depth: u32, mode: Mode) -> Ty {
    let leaf = depth == 0 || rng.chance(35);
    if leaf {
        if mode != Mode::Plain && rng.chance(40) {
            return mode.handle(rng).expect("a mode with handles");
        }
        return match rng.below(13) {
            0 => Ty::Bool,
            1 => Ty::S8,
            2 => Ty::U8,
            3 => Ty::S16,
            4 => Ty::U16,
            5 => Ty::S32,
            6 => Ty::U32,
            7 => Ty::S64,
            8 => Ty::U64,
            9 => Ty::F32,
            10 => Ty::F64,
            11 => Ty::Char,
            _ => Ty::String,
        };
    }
    let d = depth - 1;
    match rng.below(9) {
        0 => Ty::List(Box::new(gen_ty(rng, d, mode))),
        1 => {
            // Sometimes wide: more than 16 flat values spill the parameters to memory.
            let n = if rng.chance(20) {
                8 + rng.below(12) as usize
            } else {
                1 + rng.below(5) as usize
            };
            let names = labels("f", n);
            Ty::Record(
                names
                    .into_iter()
                    .map(|n| (n, gen_ty(rng, d, mode)))
                    .collect(),
            )
        }
        2 => {
            let n = 1 + rng.below(4) as usize;
            Ty::Tuple((0..n).map(|_| gen_ty(rng, d, mode)).collect())
        }
        3 => {
            let n = 1 + rng.below(5) as usize;
            let names = labels("c", n);
            Ty::Variant(
                names
                    .into_iter()
                    .map(|n| {
                        let payload = rng.chance(70).then(|| gen_ty(rng, d, mode));
                        (n, payload)
                    })
                    .collect(),
            )
        }
        4 => {
            // Up to 300 cases: discriminants of one and two bytes.
            let n = if rng.chance(15) {
                257 + rng.below(40) as usize
            } else {
                1 + rng.below(6) as usize
            };
            Ty::Enum(labels("e", n))
        }
        5 => Ty::Option(Box::new(gen_ty(rng, d, mode))),
        6 => Ty::Result(
            rng.chance(70).then(|| Box::new(gen_ty(rng, d, mode))),
            rng.chance(70).then(|| Box::new(gen_ty(rng, d, mode))),
        ),
        7 => {
            let n = 1 + rng.below(32) as usize;
            Ty::Flags(labels("g", n))
        }
        _ => Ty::String,
    }
}

/// Spec `flatten_type`.
fn flatten(ty: &Ty, out: &mut Vec<Core>) {
    match ty {
        Ty::Bool | Ty::S8 | Ty::U8 | Ty::S16 | Ty::U16 | Ty::S32 | Ty::U32 | Ty::Char => {
            out.push(Core::I32)
        }
        Ty::Own(_) | Ty::Borrow(_) => out.push(Core::I32),
        Ty::S64 | Ty::U64 => out.push(Core::I64),
        Ty::F32 => out.push(Core::F32),
        Ty::F64 => out.push(Core::F64),
        Ty::String | Ty::List(_) => out.extend([Core::I32, Core::I32]),
        Ty::Record(fields) => fields.iter().for_each(|(_, t)| flatten(t, out)),
        Ty::Tuple(items) => items.iter().for_each(|t| flatten(t, out)),
        Ty::Enum(_) | Ty::Flags(_) => out.push(Core::I32),
        Ty::Variant(cases) => flatten_variant(cases.iter().map(|(_, t)| t.as_ref()), out),
        Ty::Option(t) => flatten_variant([None, Some(&**t)], out),
        Ty::Result(ok, err) => flatten_variant([ok.as_deref(), err.as_deref()], out),
    }
}

fn flatten_variant<'a>(cases: impl IntoIterator<Item = Option<&'a Ty>>, out: &mut Vec<Core>) {
    let mut joined: Vec<Core> = Vec::new();
    for case in cases.into_iter().flatten() {
        let mut flat = Vec::new();
        flatten(case, &mut flat);
        for (i, f) in flat.into_iter().enumerate() {
            if i < joined.len() {
                joined[i] = match (joined[i], f) {
                    (a, b) if a == b => a,
                    (Core::I32, Core::F32) | (Core::F32, Core::I32) => Core::I32,
                    _ => Core::I64,
                };
            } else {
                joined.push(f);
            }
        }
    }
    out.push(Core::I32);
    out.extend(joined);
}

/// The cases of a variant-like type (variant, option, result), `None` for the others.
fn cases(ty: &Ty) -> Option<Vec<Option<&Ty>>> {
    match ty {
        Ty::Variant(cases) => Some(cases.iter().map(|(_, t)| t.as_ref()).collect()),
        Ty::Option(t) => Some(vec![None, Some(t)]),
        Ty::Result(ok, err) => Some(vec![ok.as_deref(), err.as_deref()]),
        _ => None,
    }
}

/// Spec `discriminant_type`, in bytes.
fn discriminant_size(cases: usize) -> u32 {
    match cases {
        0..=256 => 1,
        257..=65536 => 2,
        _ => 4,
    }
}

/// Spec `align_to`.
fn align_to(offset: u32, align: u32) -> u32 {
    offset.next_multiple_of(align)
}

/// Spec `alignment`.
fn alignment(ty: &Ty) -> u32 {
    if let Some(cases) = cases(ty) {
        let payload = cases.iter().flatten().map(|t| alignment(t)).max();
        return discriminant_size(cases.len()).max(payload.unwrap_or(1));
    }
    match ty {
        Ty::Bool | Ty::S8 | Ty::U8 => 1,
        Ty::S16 | Ty::U16 => 2,
        Ty::S64 | Ty::U64 | Ty::F64 => 8,
        Ty::Record(fields) => fields.iter().map(|(_, t)| alignment(t)).max().unwrap_or(1),
        Ty::Tuple(items) => items.iter().map(alignment).max().unwrap_or(1),
        Ty::Enum(names) => discriminant_size(names.len()),
        Ty::Flags(names) => match names.len() {
            0..=8 => 1,
            9..=16 => 2,
            _ => 4,
        },
        _ => 4,
    }
}

/// Spec `elem_size`.
fn size(ty: &Ty) -> u32 {
    if let Some(cases) = cases(ty) {
        let payload_align = cases.iter().flatten().map(|t| alignment(t)).max();
        let start = align_to(discriminant_size(cases.len()), payload_align.unwrap_or(1));
        let payload = cases.iter().flatten().map(|t| size(t)).max().unwrap_or(0);
        return align_to(start + payload, alignment(ty));
    }
    let record = |items: Vec<&Ty>| {
        let end = items
            .iter()
            .fold(0, |offset, t| align_to(offset, alignment(t)) + size(t));
        align_to(end, alignment(ty))
    };
    match ty {
        Ty::Bool | Ty::S8 | Ty::U8 => 1,
        Ty::S16 | Ty::U16 => 2,
        Ty::S64 | Ty::U64 | Ty::F64 => 8,
        Ty::String | Ty::List(_) => 8,
        Ty::Record(fields) => record(fields.iter().map(|(_, t)| t).collect()),
        Ty::Tuple(items) => record(items.iter().collect()),
        Ty::Enum(names) => discriminant_size(names.len()),
        Ty::Flags(names) => match names.len() {
            0..=8 => 1,
            9..=16 => 2,
            n => 4 * n.div_ceil(32) as u32,
        },
        _ => 4,
    }
}

/// The load of a type of one flat value `core` from its place in memory.
fn load(ty: &Ty, core: Core) -> &'static str {
    match (core, size(ty)) {
        (Core::I32, 1) => "i32.load8_u",
        (Core::I32, 2) => "i32.load16_u",
        (Core::I32, 4) => "i32.load",
        (Core::I64, 8) => "i64.load",
        (Core::F32, 4) => "f32.load",
        (Core::F64, 8) => "f64.load",
        (core, size) => panic!("one {core:?} of {size} bytes: {ty:?}"),
    }
}

/// Writes the component-text definition of `ty`: named kinds become a defined type imported
/// under a name (types in import and export signatures must be named; `export`: exported
/// instead, when they hold the component's own resource type, which an import cannot name);
/// the others are inline.
struct TypeWriter {
    defs: String,
    count: usize,
    export: bool,
}

impl TypeWriter {
    fn new(export: bool) -> Self {
        TypeWriter {
            defs: String::new(),
            count: 0,
            export,
        }
    }

    fn write(&mut self, ty: &Ty) -> String {
        match ty {
            Ty::Bool => "bool".into(),
            Ty::S8 => "s8".into(),
            Ty::U8 => "u8".into(),
            Ty::S16 => "s16".into(),
            Ty::U16 => "u16".into(),
            Ty::S32 => "s32".into(),
            Ty::U32 => "u32".into(),
            Ty::S64 => "s64".into(),
            Ty::U64 => "u64".into(),
            Ty::F32 => "f32".into(),
            Ty::F64 => "f64".into(),
            Ty::Char => "char".into(),
            Ty::String => "string".into(),
            Ty::Own(r) => format!("(own ${})", r.name()),
            Ty::Borrow(r) => format!("(borrow ${})", r.name()),
            Ty::List(t) => format!("(list {})", self.write(t)),
            Ty::Tuple(items) => {
                let items: Vec<String> = items.iter().map(|t| self.write(t)).collect();
                format!("(tuple {})", items.join(" "))
            }
            Ty::Option(t) => format!("(option {})", self.write(t)),
            Ty::Result(ok, err) => {
                let mut s = String::from("(result");
                if let Some(ok) = ok {
                    write!(s, " {}", self.write(ok)).unwrap();
                }
                if let Some(err) = err {
                    write!(s, " (error {})", self.write(err)).unwrap();
                }
                s + ")"
            }
            Ty::Record(fields) => {
                let body: Vec<String> = fields
                    .iter()
                    .map(|(n, t)| format!("(field \"{n}\" {})", self.write(t)))
                    .collect();
                self.named(format!("(record {})", body.join(" ")))
            }
            Ty::Variant(cases) => {
                let body: Vec<String> = cases
                    .iter()
                    .map(|(n, t)| match t {
                        Some(t) => format!("(case \"{n}\" {})", self.write(t)),
                        None => format!("(case \"{n}\")"),
                    })
                    .collect();
                self.named(format!("(variant {})", body.join(" ")))
            }
            Ty::Enum(names) => {
                let body: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
                self.named(format!("(enum {})", body.join(" ")))
            }
            Ty::Flags(names) => {
                let body: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
                self.named(format!("(flags {})", body.join(" ")))
            }
        }
    }

    fn named(&mut self, def: String) -> String {
        let n = self.count;
        self.count += 1;
        writeln!(self.defs, "  (type $d{n} {def})").unwrap();
        if self.export {
            writeln!(self.defs, "  (export $t{n} \"t{n}\" (type $d{n}))").unwrap();
        } else {
            writeln!(self.defs, "  (import \"t{n}\" (type $t{n} (eq $d{n})))").unwrap();
        }
        format!("$t{n}")
    }

    /// The `with` arguments passing the named types to a nested component.
    fn withs(&self) -> String {
        (0..self.count)
            .map(|n| format!(" (with \"t{n}\" (type $t{n}))"))
            .collect()
    }
}

/// The component text for `ty` in `mode` (see [`Mode`]); `inner` is the string encoding of the
/// guest that answers, `outer` that of a guest in front of it (nested in the same root), if
/// any.
fn component_text(ty: &Ty, mode: Mode, inner: &str, outer: Option<&str>) -> String {
    match mode {
        Mode::Plain | Mode::HostOwn => echo_component(ty, mode, inner, outer),
        Mode::Own | Mode::Borrow => guest_component(ty, mode, inner, outer),
    }
}

/// The echo component for `ty`: `echo` lowers `host-echo` with string encoding `inner`. With
/// `outer`, the component nests that one and its own `echo` (string encoding `outer`, its own
/// memory) lowers the nested component's `echo`: a guest -> guest call through an adapter.
fn echo_component(ty: &Ty, mode: Mode, inner: &str, outer: Option<&str>) -> String {
    let mut types = TypeWriter::new(false);
    let t = types.write(ty);
    let mut flat = Vec::new();
    flatten(ty, &mut flat);
    let (hr_import, hr_with) = match mode {
        Mode::HostOwn => (
            "  (import \"hr\" (type $hr (sub resource)))\n",
            " (with \"hr\" (type $hr))",
        ),
        _ => ("", ""),
    };
    let header = format!(
        "{hr_import}{}  (import \"host-echo\" (func $host (param \"x\" {t}) (result {t})))\n",
        types.defs
    );
    let single = format!("{header}{}", echo_body(&t, &flat, inner, "$host"));
    let Some(outer) = outer else {
        return format!("(component\n{single})\n");
    };
    let withs = types.withs();
    format!(
        "(component\n{header}  (component $inner\n{single})\n  (instance $a (instantiate $inner\
         {hr_with}{withs} (with \"host-echo\" (func $host))))\n  \
         (alias export $a \"echo\" (func $inner-echo))\n{})\n",
        echo_body(&t, &flat, outer, "$inner-echo")
    )
}

/// A memory with a bump `realloc` (growing the memory as needed), as `$memory` and `$realloc`.
const MEMORY: &str = r#"  (core module $mem
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 16))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and
        (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get 2))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (block $done
        (loop $grow
          (br_if $done (i32.le_u (global.get $bump)
            (i32.mul (memory.size) (i32.const 65536))))
          (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
          (br $grow)))
      (local.get $p)))
  (core instance $m (instantiate $mem))
  (alias core export $m "memory" (core memory $memory))
  (alias core export $m "realloc" (core func $realloc))
"#;

/// A memory with a bump `realloc`, a lowering of `callee`, and the lifted `echo` export whose
/// core code forwards to it; `t` is the type's text, `flat` its flattening.
fn echo_body(t: &str, flat: &[Core], encoding: &str, callee: &str) -> String {
    let params: Vec<Core> = if flat.len() > 16 {
        vec![Core::I32]
    } else {
        flat.to_vec()
    };
    let param_list: String = params.iter().map(|c| format!(" {}", c.wat())).collect();
    let gets: String = (0..params.len())
        .map(|i| format!(" (local.get {i})"))
        .collect();
    let (import_sig, export_sig, body) = if flat.len() == 1 {
        let r = flat[0].wat();
        (
            format!("(param{param_list}) (result {r})"),
            format!("(param{param_list}) (result {r})"),
            format!("(call $h{gets})"),
        )
    } else {
        let ret = params.len();
        (
            format!("(param{param_list} i32)"),
            format!("(param{param_list}) (result i32) (local $ret i32)"),
            format!(
                "(local.set {ret} (call $realloc (i32.const 0) (i32.const 0) (i32.const 8) \
                 (i32.const 4096)))\n      (call $h{gets} (local.get {ret}))\n      \
                 (local.get {ret})"
            ),
        )
    };
    format!(
        r#"{MEMORY}  (core func $lowered (canon lower (func {callee})
    (memory $memory) (realloc $realloc) string-encoding={encoding}))
  (core module $impl
    (import "m" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (import "h" "echo" (func $h {import_sig}))
    (func (export "echo") {export_sig}
      {body}))
  (core instance $i (instantiate $impl
    (with "m" (instance $m))
    (with "h" (instance (export "echo" (func $lowered))))))
  (func (export "echo") (param "x" {t}) (result {t})
    (canon lift (core func $i "echo") (memory $memory) (realloc $realloc)
      string-encoding={encoding}))
"#
    )
}

/// The padding parameter of the [`Mode::Own`] and [`Mode::Borrow`] shapes: 16 flat values, so
/// that the parameters always spill to memory.
const PAD: &str = "(tuple u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32)";

/// The root's imports (`hr`, `hr-rep`), the provider component defining `gr`, and the root's
/// exports of `gr`, `make` and `rep-of` (ascribed types naming the exported `gr`).
const PROVIDER: &str = r#"  (import "hr" (type $hr (sub resource)))
  (import "hr-rep" (func $hr-rep (param "r" (borrow $hr)) (result u32)))
  (component $provider
    (type $gr (resource (rep i32)))
    (core func $new (canon resource.new $gr))
    (core module $pm
      (import "" "new" (func $new (param i32) (result i32)))
      (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
      (func (export "rep") (param i32) (result i32) (local.get 0)))
    (core instance $pi (instantiate $pm (with "" (instance (export "new" (func $new))))))
    (export $gr-export "gr" (type $gr))
    (func (export "make") (param "rep" u32) (result (own $gr-export))
      (canon lift (core func $pi "make")))
    (func (export "rep-of") (param "r" (borrow $gr-export)) (result u32)
      (canon lift (core func $pi "rep"))))
  (instance $p (instantiate $provider))
  (alias export $p "gr" (type $gr-def))
  (export $gr "gr" (type $gr-def))
  (alias export $p "make" (func $make))
  (alias export $p "rep-of" (func $rep-of))
  (export "make" (func $make) (func (param "rep" u32) (result (own $gr))))
  (export "rep-of" (func $rep-of) (func (param "r" (borrow $gr)) (result u32)))
"#;

/// The imports of a guest nested in the root in the [`Mode::Own`] and [`Mode::Borrow`] shapes.
const NESTED_IMPORTS: &str = r#"    (import "hr" (type $hr (sub resource)))
    (import "gr" (type $gr (sub resource)))
    (import "hr-rep" (func $hr-rep (param "r" (borrow $hr)) (result u32)))
    (import "rep-of" (func $rep-of (param "r" (borrow $gr)) (result u32)))
"#;

/// Core code of the [`Mode::Borrow`] guests: drops the borrow handles `n..=1`, whose types
/// `kinds` gives (one byte each: 0 `hr`, 1 `gr`).
const DROP_ALL: &str = r#"(func $drop-all (param $kinds i32) (param $n i32)
      (block $done
        (loop $next
          (br_if $done (i32.eqz (local.get $n)))
          (if (i32.load8_u (i32.add (local.get $kinds) (i32.sub (local.get $n) (i32.const 1))))
            (then (call $gr-drop (local.get $n)))
            (else (call $hr-drop (local.get $n))))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $next))))"#;

/// Core code of the [`Mode::Borrow`] guest that answers: the representations of the borrow
/// handles `1..=n` as a `list<u32>`, then drops them. `$p` points to the spilled parameters,
/// whose first is `kinds`.
const CHECK: &str = r#"(func (export "f") (param $p i32) (result i32)
      (local $kinds i32) (local $n i32) (local $i i32) (local $out i32) (local $ret i32)
      (local.set $kinds (i32.load (local.get $p)))
      (local.set $n (i32.load offset=4 (local.get $p)))
      (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 4)
        (i32.shl (local.get $n) (i32.const 2))))
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (i32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
            (if (result i32) (i32.load8_u (i32.add (local.get $kinds) (local.get $i)))
              (then (call $gr-rep (i32.add (local.get $i) (i32.const 1))))
              (else (call $hr-rep (i32.add (local.get $i) (i32.const 1))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (call $drop-all (local.get $kinds) (local.get $n))
      (local.set $ret (call $realloc (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 8)))
      (i32.store (local.get $ret) (local.get $out))
      (i32.store offset=4 (local.get $ret) (local.get $n))
      (local.get $ret))"#;

/// The component for the [`Mode::Own`] and [`Mode::Borrow`] shapes: the root imports `hr`,
/// nests the provider of `gr` and exports `f` (`echo` or `check`, see [`Mode`]). The guest
/// that answers is the root itself or, with `outer`, a component nested in it, whose `f` the
/// root's `f` lowers and forwards to.
fn guest_component(ty: &Ty, mode: Mode, inner: &str, outer: Option<&str>) -> String {
    let mut flat = Vec::new();
    flatten(ty, &mut flat);
    let sig = |t: &str| match mode {
        Mode::Own => format!("(param \"x\" {t}) (param \"pad\" {PAD}) (result {t})"),
        _ => format!(
            "(param \"kinds\" (list u8)) (param \"x\" {t}) (param \"pad\" {PAD}) \
             (result (list u32))"
        ),
    };
    let mut root = TypeWriter::new(true);
    let t = root.write(ty);
    let mut text = format!("(component\n{PROVIDER}{}", root.defs);
    let Some(outer) = outer else {
        text += &answer_body(ty, &flat, mode, &sig(&t), inner);
        return text + ")\n";
    };
    let mut nested = TypeWriter::new(false);
    let nested_t = nested.write(ty);
    write!(
        text,
        "  (component $inner\n{NESTED_IMPORTS}{}{}  )\n  (instance $a (instantiate $inner \
         (with \"hr\" (type $hr)) (with \"gr\" (type $gr)) (with \"hr-rep\" (func $hr-rep)) \
         (with \"rep-of\" (func $rep-of)){}))\n  (alias export $a \"f\" (func $inner-f))\n",
        nested.defs,
        answer_body(ty, &flat, mode, &sig(&nested_t), inner),
        root.withs()
    )
    .unwrap();
    text += &forward_body(&flat, mode, &sig(&t), outer);
    text + ")\n"
}

/// The guest that answers `f` (signature `sig`) in the [`Mode::Own`] and [`Mode::Borrow`]
/// shapes: `echo` returns the pointer to its spilled parameters as its return area (their
/// first, `x`, is at offset 0), or loads its one flat result from there; `check` is [`CHECK`].
fn answer_body(ty: &Ty, flat: &[Core], mode: Mode, sig: &str, encoding: &str) -> String {
    let core = match (mode, flat) {
        (Mode::Own, [one]) => format!(
            "(func (export \"f\") (param i32) (result {}) ({} (local.get 0)))",
            one.wat(),
            load(ty, *one)
        ),
        (Mode::Own, _) => "(func (export \"f\") (param i32) (result i32) (local.get 0))".into(),
        _ => format!("{CHECK}\n    {DROP_ALL}"),
    };
    format!(
        r#"{MEMORY}  (core func $hr-rep-lowered (canon lower (func $hr-rep)))
  (core func $gr-rep-lowered (canon lower (func $rep-of)))
  (core func $hr-drop (canon resource.drop $hr))
  (core func $gr-drop (canon resource.drop $gr))
  (core module $impl
    (import "m" "memory" (memory 1))
    (import "m" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (import "h" "hr-rep" (func $hr-rep (param i32) (result i32)))
    (import "h" "gr-rep" (func $gr-rep (param i32) (result i32)))
    (import "h" "hr-drop" (func $hr-drop (param i32)))
    (import "h" "gr-drop" (func $gr-drop (param i32)))
    {core})
  (core instance $i (instantiate $impl
    (with "m" (instance $m))
    (with "h" (instance
      (export "hr-rep" (func $hr-rep-lowered))
      (export "gr-rep" (func $gr-rep-lowered))
      (export "hr-drop" (func $hr-drop))
      (export "gr-drop" (func $gr-drop))))))
  (func (export "f") {sig}
    (canon lift (core func $i "f") (memory $memory) (realloc $realloc) string-encoding={encoding}))
"#
    )
}

/// The root's `f` in front of the nested guest's (`$inner-f`): passes the pointer to its
/// spilled parameters on; `check` then drops its own borrows.
fn forward_body(flat: &[Core], mode: Mode, sig: &str, encoding: &str) -> String {
    let (import_sig, core) = match (mode, flat) {
        (Mode::Own, [one]) => (
            format!("(param i32) (result {})", one.wat()),
            format!(
                "(func (export \"f\") (param i32) (result {}) (call $inner (local.get 0)))",
                one.wat()
            ),
        ),
        (Mode::Own, _) => (
            "(param i32 i32)".to_string(),
            r#"(func (export "f") (param $p i32) (result i32) (local $ret i32)
      (local.set $ret (call $realloc (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 4096)))
      (call $inner (local.get $p) (local.get $ret))
      (local.get $ret))"#
                .to_string(),
        ),
        _ => (
            "(param i32 i32)".to_string(),
            format!(
                r#"(func (export "f") (param $p i32) (result i32) (local $ret i32)
      (local.set $ret (call $realloc (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 8)))
      (call $inner (local.get $p) (local.get $ret))
      (call $drop-all (i32.load (local.get $p)) (i32.load offset=4 (local.get $p)))
      (local.get $ret))
    {DROP_ALL}"#
            ),
        ),
    };
    format!(
        r#"{MEMORY}  (core func $lowered (canon lower (func $inner-f)
    (memory $memory) (realloc $realloc) string-encoding={encoding}))
  (core func $hr-drop (canon resource.drop $hr))
  (core func $gr-drop (canon resource.drop $gr))
  (core module $impl
    (import "m" "memory" (memory 1))
    (import "m" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (import "h" "inner" (func $inner {import_sig}))
    (import "h" "hr-drop" (func $hr-drop (param i32)))
    (import "h" "gr-drop" (func $gr-drop (param i32)))
    {core})
  (core instance $i (instantiate $impl
    (with "m" (instance $m))
    (with "h" (instance
      (export "inner" (func $lowered))
      (export "hr-drop" (func $hr-drop))
      (export "gr-drop" (func $gr-drop))))))
  (func (export "f") {sig}
    (canon lift (core func $i "f") (memory $memory) (realloc $realloc) string-encoding={encoding}))
"#
    )
}

fn gen_char(rng: &mut Rng) -> char {
    match rng.below(4) {
        0 => char::from(b'a' + rng.below(26) as u8),
        // Latin-1: fits the compact encoding's one-byte form.
        1 => char::from_u32(0xa0 + rng.below(0x60) as u32).unwrap(),
        // The basic multilingual plane, outside surrogates.
        2 => char::from_u32(0x100 + rng.below(0xd700) as u32).unwrap(),
        // Supplementary planes: surrogate pairs in utf16.
        _ => char::from_u32(0x10000 + rng.below(0x10000) as u32).unwrap(),
    }
}

/// A random value of `ty`. A handle is written as its marker (see [`marker`]), with a fresh
/// representation from `reps`; [`materialize`] makes the handles.
fn gen_val(rng: &mut Rng, ty: &Ty, reps: &mut u32) -> Val {
    match ty {
        Ty::Bool => Val::Bool(rng.chance(50)),
        Ty::S8 => Val::S8(rng.next() as i8),
        Ty::U8 => Val::U8(rng.next() as u8),
        Ty::S16 => Val::S16(rng.next() as i16),
        Ty::U16 => Val::U16(rng.next() as u16),
        Ty::S32 => Val::S32(rng.next() as i32),
        Ty::U32 => Val::U32(rng.next() as u32),
        Ty::S64 => Val::S64(rng.next() as i64),
        Ty::U64 => Val::U64(rng.next()),
        // No NaN: `Val`'s equality is IEEE's; NaN canonicalization is tested on its own.
        Ty::F32 => Val::Float32(f32::from_bits(rng.next() as u32 & 0xbfff_ffff)),
        Ty::F64 => Val::Float64(f64::from_bits(rng.next() & 0xbfff_ffff_ffff_ffff)),
        Ty::Char => Val::Char(gen_char(rng)),
        Ty::String => {
            let n = if rng.chance(10) {
                rng.below(3000)
            } else {
                rng.below(12)
            };
            // Mostly one kind of character per string, so that latin1 strings exist.
            let latin1 = rng.chance(50);
            Val::String(
                (0..n)
                    .map(|_| {
                        if latin1 {
                            char::from(rng.below(256) as u8)
                        } else {
                            gen_char(rng)
                        }
                    })
                    .collect(),
            )
        }
        Ty::Own(r) | Ty::Borrow(r) => {
            *reps += 1;
            marker(*r, *reps)
        }
        Ty::List(t) => {
            let n = if rng.chance(5) {
                rng.below(500)
            } else {
                rng.below(5)
            };
            Val::List((0..n).map(|_| gen_val(rng, t, reps)).collect())
        }
        Ty::Record(fields) => Val::Record(
            fields
                .iter()
                .map(|(n, t)| (n.clone(), gen_val(rng, t, reps)))
                .collect(),
        ),
        Ty::Tuple(items) => Val::Tuple(items.iter().map(|t| gen_val(rng, t, reps)).collect()),
        Ty::Variant(cases) => {
            let (name, payload) = &cases[rng.below(cases.len() as u64) as usize];
            Val::Variant(
                name.clone(),
                payload.as_ref().map(|t| Box::new(gen_val(rng, t, reps))),
            )
        }
        Ty::Enum(names) => Val::Enum(names[rng.below(names.len() as u64) as usize].clone()),
        Ty::Option(t) => Val::Option(rng.chance(60).then(|| Box::new(gen_val(rng, t, reps)))),
        Ty::Result(ok, err) => Val::Result(if rng.chance(50) {
            Ok(ok.as_ref().map(|t| Box::new(gen_val(rng, t, reps))))
        } else {
            Err(err.as_ref().map(|t| Box::new(gen_val(rng, t, reps))))
        }),
        Ty::Flags(names) => Val::Flags(names.iter().filter(|_| rng.chance(40)).cloned().collect()),
    }
}

/// What stands for a handle of `r` with representation `rep` in the values the test compares.
fn marker(r: Res, rep: u32) -> Val {
    Val::String(format!("{} {rep}", r.name()))
}

/// The representation in a marker.
fn marker_rep(val: &Val) -> u32 {
    match val {
        Val::String(s) => s.rsplit(' ').next().unwrap().parse().unwrap(),
        other => panic!("not a handle marker: {other:?}"),
    }
}

/// `val` of type `ty` with every handle replaced by `f(its type, its value)`, in the order of
/// the value (the order in which lowering creates the handles).
fn map_handles(ty: &Ty, val: &Val, f: &mut dyn FnMut(&Ty, &Val) -> Val) -> Val {
    let mut payload = |t: Option<&Ty>, v: &Option<Box<Val>>| match (t, v) {
        (Some(t), Some(v)) => Some(Box::new(map_handles(t, v, f))),
        _ => None,
    };
    match (ty, val) {
        (Ty::Own(_) | Ty::Borrow(_), v) => f(ty, v),
        (Ty::List(t), Val::List(items)) => {
            Val::List(items.iter().map(|v| map_handles(t, v, f)).collect())
        }
        (Ty::Record(fields), Val::Record(vals)) => Val::Record(
            fields
                .iter()
                .zip(vals)
                .map(|((_, t), (n, v))| (n.clone(), map_handles(t, v, f)))
                .collect(),
        ),
        (Ty::Tuple(items), Val::Tuple(vals)) => Val::Tuple(
            items
                .iter()
                .zip(vals)
                .map(|(t, v)| map_handles(t, v, f))
                .collect(),
        ),
        (Ty::Variant(cases), Val::Variant(name, v)) => {
            let case = cases.iter().find(|(n, _)| n == name).unwrap();
            Val::Variant(name.clone(), payload(case.1.as_ref(), v))
        }
        (Ty::Option(t), Val::Option(v)) => Val::Option(payload(Some(t), v)),
        (Ty::Result(ok, err), Val::Result(v)) => Val::Result(match v {
            Ok(v) => Ok(payload(ok.as_deref(), v)),
            Err(v) => Err(payload(err.as_deref(), v)),
        }),
        (_, v) => v.clone(),
    }
}

/// The handles of a value (their types and representations), in order.
fn handles(ty: &Ty, val: &Val) -> Vec<(Res, u32)> {
    let mut found = Vec::new();
    map_handles(ty, val, &mut |t, v| {
        found.push((handle_res(t), marker_rep(v)));
        v.clone()
    });
    found
}

/// The resource type of a handle type.
fn handle_res(ty: &Ty) -> Res {
    match ty {
        Ty::Own(r) | Ty::Borrow(r) => *r,
        other => panic!("not a handle type: {other:?}"),
    }
}

/// The root instance's `make` and `rep-of`, and the type of `gr`.
struct Provider {
    make: Func,
    rep_of: Func,
    gr: ResourceType,
}

/// `val` with every marker replaced by a handle of its representation: `hr` handles made by
/// the host (own, or borrows the host lends), own `gr` handles made by the provider's `make`
/// (also given as borrows; they are added to `made`, for the caller to drop).
fn materialize(
    ty: &Ty,
    val: &Val,
    mut store: impl AsContextMut,
    provider: Option<&Provider>,
    made: &mut Vec<ResourceAny>,
) -> Val {
    map_handles(ty, val, &mut |t, v| {
        let rep = marker_rep(v);
        let host = match t {
            Ty::Own(Res::Host) => Resource::<HostRes>::new_own(rep),
            Ty::Borrow(Res::Host) => Resource::<HostRes>::new_borrow(rep),
            _ => {
                let make = provider.expect("a provider for guest handles").make;
                let mut out = [Val::Bool(false)];
                make.call(&mut store, &[Val::U32(rep)], &mut out).unwrap();
                let Val::Resource(any) = out[0] else {
                    panic!("`make` returned {out:?}")
                };
                made.push(any);
                return Val::Resource(any);
            }
        };
        Val::Resource(host.try_into_resource_any(&mut store).unwrap())
    })
}

/// `val` with every own handle replaced by its marker, taking the handles back: `hr` handles
/// leave the host table, `gr` handles are read with the provider's `rep-of` and dropped. Their
/// types are checked.
fn normalize(ty: &Ty, val: &Val, mut store: impl AsContextMut, provider: Option<&Provider>) -> Val {
    map_handles(ty, val, &mut |t, v| {
        let Val::Resource(any) = v else {
            panic!("a handle of type {t:?} lifted as {v:?}")
        };
        assert!(any.owned(), "a borrow where {t:?} is expected");
        let r = handle_res(t);
        let rep = match r {
            Res::Host => Resource::<HostRes>::try_from_resource_any(*any, &mut store)
                .unwrap()
                .rep(),
            Res::Guest => {
                let provider = provider.expect("a provider for guest handles");
                assert_eq!(any.ty(), provider.gr, "a handle of another type than `gr`");
                let mut out = [Val::Bool(false)];
                provider
                    .rep_of
                    .call(&mut store, &[Val::Resource(*any)], &mut out)
                    .unwrap();
                any.resource_drop(&mut store).unwrap();
                match out[0] {
                    Val::U32(rep) => rep,
                    ref other => panic!("`rep-of` returned {other:?}"),
                }
            }
        };
        marker(r, rep)
    })
}

/// The linker of the round trips: the host resource `hr`, `hr-rep`, and `host-echo`, which
/// records the value it receives (handles as markers) and returns it (with new handles of the
/// same representations).
fn linker(ty: &Ty, seen: Arc<Mutex<Vec<Val>>>) -> Linker<()> {
    let mut linker = Linker::<()>::new();
    let mut root = linker.root();
    root.resource("hr", ResourceType::host::<HostRes>(), |_, _| Ok(()))
        .unwrap();
    root.func_wrap("hr-rep", |_, (r,): (Resource<HostRes>,)| Ok((r.rep(),)))
        .unwrap();
    let ty = ty.clone();
    root.func_new("host-echo", move |mut store, params, results| {
        let received = normalize(&ty, &params[0], &mut store, None);
        results[0] = materialize(&ty, &received, &mut store, None, &mut Vec::new());
        seen.lock().unwrap().push(received);
        Ok(())
    })
    .unwrap();
    linker
}

/// The value of the padding parameter.
fn pad() -> Val {
    Val::Tuple((0..16).map(Val::U32).collect())
}

/// Runs `cases` seeds from `first`; panics with the seed, the type and the component text on
/// the first difference.
fn round_trips(first: u64, cases: u64, nested: bool) {
    let encodings = ["utf8", "utf16", "latin1+utf16"];
    // How many types had one flat value, 2 to 16 (results through a return area), and more
    // than 16 (parameters spilled to memory): each path must be exercised.
    let mut shapes = [0u32; 3];
    // How many handles crossed in each mode: each mode with handles must be exercised.
    let mut crossed = [0usize; 4];
    for seed in first..first + cases {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mode = match rng.below(10) {
            0..=3 => Mode::Plain,
            4 | 5 => Mode::HostOwn,
            6 | 7 => Mode::Own,
            _ => Mode::Borrow,
        };
        let depth = 1 + rng.below(4) as u32;
        let ty = gen_ty(&mut rng, depth, mode);
        let encoding = encodings[rng.below(3) as usize];
        let outer = nested.then(|| encodings[rng.below(3) as usize]);
        let wat = component_text(&ty, mode, encoding, outer);
        let mut flat = Vec::new();
        flatten(&ty, &mut flat);
        shapes[match flat.len() {
            1 => 0,
            2..=16 => 1,
            _ => 2,
        }] += 1;
        let what = || {
            format!(
                "seed {seed}, mode {mode:?}, type {ty:?}, encodings {encoding} {outer:?}\n{wat}"
            )
        };
        let artifact =
            aot_tests::compile(&wat).unwrap_or_else(|e| panic!("compile failed: {e}\n{}", what()));
        let component = aot_tests::load_component(&artifact).unwrap();

        let seen: Arc<Mutex<Vec<Val>>> = Arc::default();
        let linker = linker(&ty, seen.clone());
        let mut store = Store::new(());
        let instance = linker
            .instantiate(&mut store, &component)
            .unwrap_or_else(|e| panic!("instantiate failed: {e}\n{}", what()));
        let provider = matches!(mode, Mode::Own | Mode::Borrow).then(|| Provider {
            make: instance.get_func(&mut store, "make").unwrap(),
            rep_of: instance.get_func(&mut store, "rep-of").unwrap(),
            gr: instance.get_resource(&store, "gr").unwrap(),
        });
        let name = match mode {
            Mode::Plain | Mode::HostOwn => "echo",
            Mode::Own | Mode::Borrow => "f",
        };
        let f = instance.get_func(&mut store, name).unwrap();
        let mut reps = 100;
        for round in 0..4 {
            let value = gen_val(&mut rng, &ty, &mut reps);
            let found = handles(&ty, &value);
            crossed[mode as usize] += found.len();
            let mut made = Vec::new();
            let x = materialize(&ty, &value, &mut store, provider.as_ref(), &mut made);
            let params = match mode {
                Mode::Plain | Mode::HostOwn => vec![x],
                Mode::Own => vec![x, pad()],
                Mode::Borrow => {
                    let kinds = found
                        .iter()
                        .map(|(r, _)| Val::U8(u8::from(*r == Res::Guest)))
                        .collect();
                    vec![Val::List(kinds), x, pad()]
                }
            };
            let mut results = [Val::Bool(false)];
            f.call(&mut store, &params, &mut results)
                .unwrap_or_else(|e| panic!("round {round}: call failed: {e}\n{}", what()));
            if mode == Mode::Borrow {
                // The guests saw the borrows in order; the own `gr` handles lent stay the host's.
                let reps = found.iter().map(|(_, rep)| Val::U32(*rep)).collect();
                assert_eq!(
                    results[0],
                    Val::List(reps),
                    "round {round}: the guest saw other borrows\n{}",
                    what()
                );
                for any in made {
                    any.resource_drop(&mut store).unwrap();
                }
                continue;
            }
            if matches!(mode, Mode::Plain | Mode::HostOwn) {
                let received = seen.lock().unwrap().pop();
                assert_eq!(
                    received.as_ref(),
                    Some(&value),
                    "round {round}: the host import received another value\n{}",
                    what()
                );
            }
            assert_eq!(
                normalize(&ty, &results[0], &mut store, provider.as_ref()),
                value,
                "round {round}: the call returned another value\n{}",
                what()
            );
        }
    }
    assert!(
        shapes.iter().all(|n| *n > 0),
        "shapes not covered: {shapes:?}"
    );
    assert!(
        crossed[1..].iter().all(|n| *n > 0),
        "modes without handles crossing: {crossed:?}"
    );
}

#[test]
fn random_types_and_values_round_trip_between_host_and_guest() {
    round_trips(0, 150, false);
}

/// The same values through a guest -> guest adapter first: two memories, two encodings.
#[test]
fn random_types_and_values_round_trip_between_two_guests() {
    round_trips(1_000_000, 150, true);
}

/// A longer run: `cargo test -p aot-tests --test all abi_roundtrip -- --ignored`.
#[test]
#[ignore = "long run; the default tests cover the first seeds"]
fn random_types_and_values_round_trip_long() {
    round_trips(150, 5000, false);
    round_trips(1_000_150, 5000, true);
}
