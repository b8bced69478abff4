//! Canonical ABI round trips over random types and values (issue 6: canonical-ABI fuzzing).
//!
//! For each seed: a random component value type `T` (records, variants, enums, flags, lists,
//! tuples, options, results, strings, chars, every scalar; nested), a generated component that
//! imports `host-echo: func(x: T) -> T` and exports `echo: func(x: T) -> T`, whose core code
//! passes its flat arguments (or the spilled pointer) straight to the lowered import and returns
//! what it got back (a value, or the return area the import filled). A random string encoding
//! is used for both the lift and the lower. Then random values of `T` go host -> guest (lower
//! into guest memory, through `realloc`) -> host (lift out of it) -> guest (lower the host
//! results) -> host (lift the export's results): the value the host import receives and the
//! value the call returns must both equal the original. The nested variant puts a second
//! component in front: its `echo` lowers the first one's, so the value also crosses a
//! guest -> guest adapter between two memories with two string encodings.
//!
//! The type generator, the flattening that decides the core signatures, and the values are all
//! written from the specification (CanonicalABI.md), independently of the runtime's code.

use aot_runtime::Store;
use aot_runtime::component::{Linker, Val};
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

/// A component value type, as the specification defines them (no handles).
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

fn gen_ty(rng: &mut Rng, depth: u32) -> Ty {
    let leaf = depth == 0 || rng.chance(35);
    if leaf {
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
        0 => Ty::List(Box::new(gen_ty(rng, d))),
        1 => {
            // Sometimes wide: more than 16 flat values spill the parameters to memory.
            let n = if rng.chance(20) {
                8 + rng.below(12) as usize
            } else {
                1 + rng.below(5) as usize
            };
            let names = labels("f", n);
            Ty::Record(names.into_iter().map(|n| (n, gen_ty(rng, d))).collect())
        }
        2 => {
            let n = 1 + rng.below(4) as usize;
            Ty::Tuple((0..n).map(|_| gen_ty(rng, d)).collect())
        }
        3 => {
            let n = 1 + rng.below(5) as usize;
            let names = labels("c", n);
            Ty::Variant(
                names
                    .into_iter()
                    .map(|n| {
                        let payload = rng.chance(70).then(|| gen_ty(rng, d));
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
        5 => Ty::Option(Box::new(gen_ty(rng, d))),
        6 => Ty::Result(
            rng.chance(70).then(|| Box::new(gen_ty(rng, d))),
            rng.chance(70).then(|| Box::new(gen_ty(rng, d))),
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

/// Writes the component-text definition of `ty`: named kinds become a defined type imported
/// under a name (types in import and export signatures must be named); the others are inline.
struct TypeWriter {
    defs: String,
    count: usize,
}

impl TypeWriter {
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
        writeln!(self.defs, "  (import \"t{n}\" (type $t{n} (eq $d{n})))").unwrap();
        format!("$t{n}")
    }
}

/// The echo component for `ty`: `echo` lowers `host-echo` with string encoding `inner`. With
/// `outer`, the component nests that one and its own `echo` (string encoding `outer`, its own
/// memory) lowers the nested component's `echo`: a guest -> guest call through an adapter.
fn echo_component(ty: &Ty, inner: &str, outer: Option<&str>) -> String {
    let mut types = TypeWriter {
        defs: String::new(),
        count: 0,
    };
    let t = types.write(ty);
    let mut flat = Vec::new();
    flatten(ty, &mut flat);
    let header = format!(
        "{}  (import \"host-echo\" (func $host (param \"x\" {t}) (result {t})))\n",
        types.defs
    );
    let single = format!("{header}{}", echo_body(&t, &flat, inner, "$host"));
    let Some(outer) = outer else {
        return format!("(component\n{single})\n");
    };
    let withs: String = (0..types.count)
        .map(|n| format!(" (with \"t{n}\" (type $t{n}))"))
        .collect();
    format!(
        "(component\n{header}  (component $inner\n{single})\n  (instance $a (instantiate $inner{withs} \
         (with \"host-echo\" (func $host))))\n  (alias export $a \"echo\" (func $inner-echo))\n{})\n",
        echo_body(&t, &flat, outer, "$inner-echo")
    )
}

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
        r#"  (core module $mem
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
  (core func $lowered (canon lower (func {callee}) (memory $memory) (realloc $realloc)
    string-encoding={encoding}))
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

fn gen_val(rng: &mut Rng, ty: &Ty) -> Val {
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
        Ty::List(t) => {
            let n = if rng.chance(5) {
                rng.below(500)
            } else {
                rng.below(5)
            };
            Val::List((0..n).map(|_| gen_val(rng, t)).collect())
        }
        Ty::Record(fields) => Val::Record(
            fields
                .iter()
                .map(|(n, t)| (n.clone(), gen_val(rng, t)))
                .collect(),
        ),
        Ty::Tuple(items) => Val::Tuple(items.iter().map(|t| gen_val(rng, t)).collect()),
        Ty::Variant(cases) => {
            let (name, payload) = &cases[rng.below(cases.len() as u64) as usize];
            Val::Variant(
                name.clone(),
                payload.as_ref().map(|t| Box::new(gen_val(rng, t))),
            )
        }
        Ty::Enum(names) => Val::Enum(names[rng.below(names.len() as u64) as usize].clone()),
        Ty::Option(t) => Val::Option(rng.chance(60).then(|| Box::new(gen_val(rng, t)))),
        Ty::Result(ok, err) => Val::Result(if rng.chance(50) {
            Ok(ok.as_ref().map(|t| Box::new(gen_val(rng, t))))
        } else {
            Err(err.as_ref().map(|t| Box::new(gen_val(rng, t))))
        }),
        Ty::Flags(names) => Val::Flags(names.iter().filter(|_| rng.chance(40)).cloned().collect()),
    }
}

/// Runs `cases` seeds from `first`; panics with the seed, the type and the component text on
/// the first difference.
fn round_trips(first: u64, cases: u64, nested: bool) {
    let encodings = ["utf8", "utf16", "latin1+utf16"];
    // How many types had one flat value, 2 to 16 (results through a return area), and more
    // than 16 (parameters spilled to memory): each path must be exercised.
    let mut shapes = [0u32; 3];
    for seed in first..first + cases {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let depth = 1 + rng.below(4) as u32;
        let ty = gen_ty(&mut rng, depth);
        let encoding = encodings[rng.below(3) as usize];
        let outer = nested.then(|| encodings[rng.below(3) as usize]);
        let wat = echo_component(&ty, encoding, outer);
        let mut flat = Vec::new();
        flatten(&ty, &mut flat);
        shapes[match flat.len() {
            1 => 0,
            2..=16 => 1,
            _ => 2,
        }] += 1;
        let what = || format!("seed {seed}, type {ty:?}, encodings {encoding} {outer:?}\n{wat}");
        let artifact =
            aot_tests::compile(&wat).unwrap_or_else(|e| panic!("compile failed: {e}\n{}", what()));
        let component = aot_tests::load_component(&artifact).unwrap();

        let seen: Arc<Mutex<Vec<Val>>> = Arc::default();
        let mut linker = Linker::<()>::new();
        let record = seen.clone();
        linker
            .root()
            .func_new("host-echo", move |_, params, results| {
                record.lock().unwrap().push(params[0].clone());
                results[0] = params[0].clone();
                Ok(())
            })
            .unwrap();
        let mut store = Store::new(());
        let instance = linker
            .instantiate(&mut store, &component)
            .unwrap_or_else(|e| panic!("instantiate failed: {e}\n{}", what()));
        let echo = instance.get_func(&mut store, "echo").unwrap();
        for round in 0..4 {
            let value = gen_val(&mut rng, &ty);
            let mut results = [Val::Bool(false)];
            echo.call(&mut store, std::slice::from_ref(&value), &mut results)
                .unwrap_or_else(|e| panic!("round {round}: call failed: {e}\n{}", what()));
            let received = seen.lock().unwrap().pop();
            assert_eq!(
                received.as_ref(),
                Some(&value),
                "round {round}: the host import received another value\n{}",
                what()
            );
            assert_eq!(
                results[0],
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
