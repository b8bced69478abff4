//! Hostile guests at the canonical ABI level (issue 6): components whose core code lies to the
//! runtime in every direction, one table row per lie (a name, the lying core code, the trap the
//! specification requires):
//!
//! - guest -> host results of a lifted export: return areas, string and list pointers and
//!   lengths out of bounds, misaligned or overflowing, invalid UTF-8 and UTF-16, invalid chars,
//!   discriminants out of range;
//! - host -> guest parameters: a `realloc` returning pointers out of bounds, misaligned or
//!   overflowing, or trapping itself;
//! - guest -> host import calls: lying arguments (the host function must not run) and lying
//!   return areas and `realloc` results for the host's results (after it ran);
//! - handles: indices that do not exist, of another resource type, a borrow used as an own,
//!   dropped twice, used after the call that lent it returned;
//! - guest -> guest calls through an adapter: the caller's arguments or the callee's `realloc`
//!   lie.
//!
//! Each row asserts the trap code and the runtime's detail (what, where, how large). Where the
//! specification only says "trap", the code is the runtime's choice (a UTF-16 length whose
//! byte length overflows 32 bits is `LengthOverflow`; the specification's bounds check would
//! trap too).
//!
//! Every case runs through the dynamic API (and the typed API where a Rust type expresses the
//! signature) on a fresh instance. After the trap the lying instance is poisoned (the runtime's
//! rule, as Wasmtime's: a trapped instance may not be entered again), while another instance of
//! the same component in the same store, and an instance in another store, still answer. The
//! few lies the specification does NOT trap on (a bool of 2, flags bits beyond the labels,
//! integers wider than their type) are rows too, with the value the specification gives.

use aot_runtime::component::{
    ComponentNamedList, Instance, Lift, Linker, Lower, Resource, ResourceAny, ResourceTable,
    ResourceType, Val,
};
use aot_runtime::{Store, Trap};
use std::fmt::Write as _;

/// The host's state: its resource table and how many times a host function ran.
#[derive(Default)]
struct Host {
    table: ResourceTable,
    calls: u32,
}

/// The host resource `counter`.
struct Counter(u32);

/// The host functions every case's component imports as `test:hostile/host`: the export name,
/// the name of the lowered core function, its core signature.
const HOST_FUNCS: &[(&str, &str, &str)] = &[
    ("[constructor]counter", "new", "(param i32) (result i32)"),
    ("[method]counter.inc", "inc", "(param i32) (result i32)"),
    ("consume", "consume", "(param i32) (result i32)"),
    ("take-string", "take-string", "(param i32 i32) (result i32)"),
    ("take-list", "take-list", "(param i32 i32) (result i32)"),
    ("take-option", "take-option", "(param i32 i32) (result i32)"),
    ("take-char", "take-char", "(param i32) (result i32)"),
    ("take-color", "take-color", "(param i32) (result i32)"),
    // `result<u64, u32>` joins its payloads into one `i64`.
    ("take-result", "take-result", "(param i32 i64) (result i32)"),
    // Nine strings are 18 flat values: the arguments are one pointer to a tuple.
    ("take-many", "take-many", "(param i32) (result i32)"),
    // A string result is 2 flat values: the caller passes a return area.
    ("give-string", "give-string", "(param i32)"),
];

/// The component type of `test:hostile/host`.
const HOST_IMPORT: &str = r#"
  (import "test:hostile/host" (instance $host
    (export "counter" (type $counter (sub resource)))
    (type $color0 (enum "red" "green" "blue"))
    (export "color" (type $color (eq $color0)))
    (export "[constructor]counter" (func (param "start" u32) (result (own $counter))))
    (export "[method]counter.inc" (func (param "self" (borrow $counter)) (result u32)))
    (export "consume" (func (param "c" (own $counter)) (result u32)))
    (export "take-string" (func (param "s" string) (result u32)))
    (export "take-list" (func (param "l" (list u64)) (result u32)))
    (export "take-option" (func (param "o" (option u32)) (result u32)))
    (export "take-char" (func (param "c" char) (result u32)))
    (export "take-color" (func (param "c" $color) (result u32)))
    (export "take-result" (func (param "r" (result u64 (error u32))) (result u32)))
    (export "take-many" (func
      (param "a" string) (param "b" string) (param "c" string) (param "d" string)
      (param "e" string) (param "f" string) (param "g" string) (param "h" string)
      (param "i" string) (result u32)))
    (export "give-string" (func (result string)))))
  (alias export $host "counter" (type $counter))
"#;

/// The resource builtins the core module imports as `r`: name, builtin, core signature.
const BUILTINS: &[(&str, &str, &str)] = &[
    ("a-new", "resource.new $a", "(param i32) (result i32)"),
    ("a-rep", "resource.rep $a", "(param i32) (result i32)"),
    ("a-drop", "resource.drop $a", "(param i32)"),
    ("b-new", "resource.new $b", "(param i32) (result i32)"),
    ("counter-drop", "resource.drop $counter", "(param i32)"),
];

fn linker() -> Linker<Host> {
    let mut linker = Linker::<Host>::new();
    let mut host = linker.instance("test:hostile/host").unwrap();
    host.resource(
        "counter",
        ResourceType::host::<Counter>(),
        |mut store, rep| {
            store
                .data_mut()
                .table
                .delete(Resource::<Counter>::new_own(rep))?;
            Ok(())
        },
    )
    .unwrap();
    host.func_wrap("[constructor]counter", |mut store, (start,): (u32,)| {
        let host = store.data_mut();
        host.calls += 1;
        Ok((host.table.push(Counter(start))?,))
    })
    .unwrap();
    host.func_wrap(
        "[method]counter.inc",
        |mut store, (this,): (Resource<Counter>,)| {
            let host = store.data_mut();
            host.calls += 1;
            let counter = host.table.get_mut(&this)?;
            counter.0 += 1;
            Ok((counter.0,))
        },
    )
    .unwrap();
    host.func_wrap("consume", |mut store, (this,): (Resource<Counter>,)| {
        let host = store.data_mut();
        host.calls += 1;
        Ok((host.table.delete(this)?.0,))
    })
    .unwrap();
    host.func_wrap("take-string", |mut store, (s,): (String,)| {
        store.data_mut().calls += 1;
        Ok((s.len() as u32,))
    })
    .unwrap();
    host.func_wrap("take-list", |mut store, (l,): (Vec<u64>,)| {
        store.data_mut().calls += 1;
        Ok((l.len() as u32,))
    })
    .unwrap();
    host.func_wrap("take-option", |mut store, (o,): (Option<u32>,)| {
        store.data_mut().calls += 1;
        Ok((o.unwrap_or(0),))
    })
    .unwrap();
    host.func_wrap("take-char", |mut store, (c,): (char,)| {
        store.data_mut().calls += 1;
        Ok((u32::from(c),))
    })
    .unwrap();
    // An enum: through the dynamic lifting of `func_new`.
    host.func_new("take-color", |mut store, params, results| {
        store.data_mut().calls += 1;
        let Val::Enum(name) = &params[0] else {
            panic!("not an enum: {params:?}")
        };
        results[0] = Val::U32(name.len() as u32);
        Ok(())
    })
    .unwrap();
    // `ok(v)` gives `v` (truncated), `err(e)` gives 1_000_000 + `e`.
    host.func_wrap("take-result", |mut store, (r,): (Result<u64, u32>,)| {
        store.data_mut().calls += 1;
        Ok((r.map_or_else(|e| 1_000_000 + e, |v| v as u32),))
    })
    .unwrap();
    type Nine = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    );
    host.func_wrap("take-many", |mut store, strings: Nine| {
        store.data_mut().calls += 1;
        Ok((strings.8.len() as u32,))
    })
    .unwrap();
    host.func_wrap("give-string", |mut store, (): ()| {
        store.data_mut().calls += 1;
        Ok(("from the host".to_string(),))
    })
    .unwrap();
    linker
}

/// Makes the arguments of `f` (host resources go into the store first).
type Params = fn(&mut Store<Host>) -> Vec<Val>;

/// Calls an export of the instance before `f` (to stash a handle).
type Setup = fn(&mut Store<Host>, &Instance) -> aot_runtime::Result<()>;

/// Calls `f` through the typed API; a non-trapping case checks the value itself.
type Typed = fn(&mut Store<Host>, &Instance) -> aot_runtime::Result<()>;

/// What calling `f` must do.
#[derive(Copy, Clone)]
enum Expect {
    /// Trap with this code and a detail containing this text.
    Trap(Trap, &'static str),
    /// Return this value (the lies the specification does not trap on).
    Value(fn() -> Val),
}

/// One lie: a component exporting `f`, lifted from the lying core function.
struct Case {
    name: &'static str,
    /// Component-level definitions before the core modules (the types `sig` names).
    defs: String,
    /// The component signature of `f`: `(param ..) (result ..)`.
    sig: String,
    /// The `string-encoding=` of `f` and of every lowered import (empty: UTF-8).
    encoding: &'static str,
    /// Extra functions of the module owning the memory (a lying `realloc`).
    mem: String,
    /// The `realloc` `f` is lifted with and the one the imports are lowered with.
    lift_realloc: &'static str,
    lower_realloc: &'static str,
    /// Fields of the core module: the export `f` (and its data, globals, other exports).
    core: String,
    /// More lifted exports, used by `setup`.
    exports: &'static str,
    params: Params,
    setup: Option<Setup>,
    typed: Option<Typed>,
    expect: Expect,
    /// How many host functions ran during the call (0: the lie was caught before the host ran).
    host_calls: u32,
    /// The whole component text, instead of the template (the guest -> guest cases).
    text: Option<String>,
}

impl Case {
    fn new(name: &'static str, sig: &str, core: impl Into<String>, expect: Expect) -> Case {
        Case {
            name,
            defs: String::new(),
            sig: sig.to_string(),
            encoding: "",
            mem: String::new(),
            lift_realloc: "realloc",
            lower_realloc: "realloc",
            core: core.into(),
            exports: "",
            params: |_| Vec::new(),
            setup: None,
            typed: None,
            expect,
            host_calls: 0,
            text: None,
        }
    }

    /// A case whose component is `text` (exporting `f` and `ok`), not the template.
    fn text(name: &'static str, text: String, expect: Expect) -> Case {
        Case {
            text: Some(text),
            ..Case::new(name, "", "", expect)
        }
    }

    fn defs(mut self, defs: &str) -> Case {
        self.defs = defs.to_string();
        self
    }

    fn encoding(mut self, encoding: &'static str) -> Case {
        self.encoding = encoding;
        self
    }

    /// `f` is lifted with `realloc` (exported by `mem` as `bad-realloc`).
    fn lift_realloc(mut self, mem: &str) -> Case {
        self.mem = mem.to_string();
        self.lift_realloc = "bad-realloc";
        self
    }

    /// The imports are lowered with `realloc` (exported by `mem` as `bad-realloc`).
    fn lower_realloc(mut self, mem: &str) -> Case {
        self.mem = mem.to_string();
        self.lower_realloc = "bad-realloc";
        self
    }

    fn exports(mut self, exports: &'static str) -> Case {
        self.exports = exports;
        self
    }

    fn params(mut self, params: Params) -> Case {
        self.params = params;
        self
    }

    fn setup(mut self, setup: Setup) -> Case {
        self.setup = Some(setup);
        self
    }

    fn typed(mut self, typed: Typed) -> Case {
        self.typed = Some(typed);
        self
    }

    fn host_calls(mut self, n: u32) -> Case {
        self.host_calls = n;
        self
    }

    /// The component text: the host import, two guest resource types `a` and `b`, a module
    /// owning the memory and `realloc`, the lowered imports and builtins, the core module of the
    /// case (which also exports `ok`, returning 42), and the lifted exports `f` and `ok`.
    fn wat(&self) -> String {
        if let Some(text) = &self.text {
            return text.clone();
        }
        let encoding = encoding_option(self.encoding);
        let mut wat = String::from("(component\n");
        wat.push_str(HOST_IMPORT);
        wat.push_str(
            r#"  (type $a (resource (rep i32)))
  (type $b (resource (rep i32)))
  (export $A "a" (type $a))
  (export $B "b" (type $b))
"#,
        );
        wat.push_str(&self.defs);
        write!(
            wat,
            r#"
  (core module $mem
    (memory (export "memory") 1)
    ;; A bump allocator from 0x8000; the cases' data lives below.
    (global $bump (mut i32) (i32.const 0x8000))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and
        (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get 2))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    {mem})
  (core instance $m (instantiate $mem))
  (alias core export $m "memory" (core memory $memory))
  (alias core export $m "{lift}" (core func $lift-realloc))
  (alias core export $m "{lower}" (core func $lower-realloc))
"#,
            mem = self.mem,
            lift = self.lift_realloc,
            lower = self.lower_realloc,
        )
        .unwrap();
        for (name, id, _) in HOST_FUNCS {
            writeln!(
                wat,
                "  (core func $h-{id} (canon lower (func $host \"{name}\") (memory $memory) \
                 (realloc $lower-realloc){encoding}))"
            )
            .unwrap();
        }
        for (id, builtin, _) in BUILTINS {
            writeln!(wat, "  (core func $r-{id} (canon {builtin}))").unwrap();
        }
        wat.push_str("  (core module $impl\n    (import \"m\" \"memory\" (memory 1))\n");
        for (_, id, sig) in HOST_FUNCS {
            writeln!(wat, "    (import \"h\" \"{id}\" (func ${id} {sig}))").unwrap();
        }
        for (id, _, sig) in BUILTINS {
            writeln!(wat, "    (import \"r\" \"{id}\" (func ${id} {sig}))").unwrap();
        }
        writeln!(
            wat,
            "    (func (export \"ok\") (result i32) (i32.const 42))\n    {})",
            self.core
        )
        .unwrap();
        let host: String = HOST_FUNCS
            .iter()
            .map(|(_, id, _)| format!(" (export \"{id}\" (func $h-{id}))"))
            .collect();
        let builtins: String = BUILTINS
            .iter()
            .map(|(id, _, _)| format!(" (export \"{id}\" (func $r-{id}))"))
            .collect();
        write!(
            wat,
            r#"  (core instance $i (instantiate $impl
    (with "m" (instance $m))
    (with "h" (instance{host}))
    (with "r" (instance{builtins}))))
  (func (export "f") {sig}
    (canon lift (core func $i "f") (memory $memory) (realloc $lift-realloc){encoding}))
  (func (export "ok") (result u32) (canon lift (core func $i "ok")))
  {exports}
)
"#,
            sig = self.sig,
            exports = self.exports,
        )
        .unwrap();
        wat
    }
}

/// Calls `ok` (42) on `instance`.
fn ok(store: &mut Store<Host>, instance: &Instance) -> aot_runtime::Result<u32> {
    let ok = instance.get_typed_func::<(), (u32,)>(&mut *store, "ok")?;
    Ok(ok.call(&mut *store, ())?.0)
}

/// Calls `f` on `instance` through the typed API.
fn typed<P, R>(store: &mut Store<Host>, instance: &Instance, params: P) -> aot_runtime::Result<R>
where
    P: ComponentNamedList + Lower,
    R: ComponentNamedList + Lift,
{
    let f = instance.get_typed_func::<P, R>(&mut *store, "f")?;
    f.call(&mut *store, params)
}

/// Checks the outcome of one call of `f` against the case.
fn check(
    case: &Case,
    api: &str,
    outcome: aot_runtime::Result<Option<Val>>,
    calls: u32,
) -> Result<(), String> {
    let name = case.name;
    match (case.expect, outcome) {
        (Expect::Trap(trap, detail), Err(e)) => {
            if e.trap() != Some(trap) {
                return Err(format!("{name} ({api}): expected trap {trap:?}, got: {e}"));
            }
            if !e.detail().unwrap_or_default().contains(detail) {
                return Err(format!(
                    "{name} ({api}): expected a detail with `{detail}`, got: {e}"
                ));
            }
        }
        (Expect::Trap(trap, _), Ok(v)) => {
            return Err(format!("{name} ({api}): expected trap {trap:?}, got {v:?}"));
        }
        // A typed call checks the value itself and gives `None`.
        (Expect::Value(value), Ok(Some(v))) if v != value() => {
            return Err(format!("{name} ({api}): expected {:?}, got {v:?}", value()));
        }
        (Expect::Value(_), Ok(_)) => {}
        (Expect::Value(value), Err(e)) => {
            return Err(format!("{name} ({api}): expected {:?}, got: {e}", value()));
        }
    }
    if calls != case.host_calls {
        return Err(format!(
            "{name} ({api}): {calls} host function calls, expected {}",
            case.host_calls
        ));
    }
    Ok(())
}

/// Runs one case through the dynamic API (and the typed one), then checks the isolation: the
/// lying instance is poisoned after a trap, another instance in the same store and an instance
/// in another store still work.
fn run_case(linker: &Linker<Host>, case: &Case) -> Result<(), String> {
    let name = case.name;
    let wat = case.wat();
    let artifact =
        aot_tests::compile(&wat).map_err(|e| format!("{name}: compile failed: {e}\n{wat}"))?;
    let component = aot_tests::load_component(&artifact).map_err(|e| format!("{name}: {e}"))?;
    let err = |e: aot_runtime::Error| format!("{name}: {e}");
    let mut store = Store::new(Host::default());
    let bystander = linker.instantiate(&mut store, &component).map_err(err)?;
    let traps = matches!(case.expect, Expect::Trap(..));

    let liar = linker.instantiate(&mut store, &component).map_err(err)?;
    if let Some(setup) = case.setup {
        setup(&mut store, &liar).map_err(|e| format!("{name}: setup: {e}"))?;
    }
    store.data_mut().calls = 0;
    let params = (case.params)(&mut store);
    let f = liar.get_func(&mut store, "f").ok_or("no `f`")?;
    let mut results = vec![Val::Bool(false); f.results(&store).len()];
    let outcome = f.call(&mut store, &params, &mut results);
    let calls = store.data().calls;
    check(case, "dynamic", outcome.map(|()| results.pop()), calls)?;
    let after = ok(&mut store, &liar);
    match (traps, after) {
        (true, Err(e)) if e.trap() == Some(Trap::CannotEnterComponent) => {}
        (false, Ok(42)) => {}
        (_, after) => return Err(format!("{name}: the liar's `ok` after the call: {after:?}")),
    }
    if !matches!(ok(&mut store, &bystander), Ok(42)) {
        return Err(format!("{name}: another instance in the store is affected"));
    }

    if let Some(typed) = case.typed {
        let liar = linker.instantiate(&mut store, &component).map_err(err)?;
        if let Some(setup) = case.setup {
            setup(&mut store, &liar).map_err(|e| format!("{name}: setup: {e}"))?;
        }
        store.data_mut().calls = 0;
        let outcome = typed(&mut store, &liar);
        let calls = store.data().calls;
        check(case, "typed", outcome.map(|()| None), calls)?;
        if !matches!(ok(&mut store, &bystander), Ok(42)) {
            return Err(format!("{name}: another instance in the store is affected"));
        }
    }

    let mut other = Store::new(Host::default());
    let instance = linker.instantiate(&mut other, &component).map_err(err)?;
    if !matches!(ok(&mut other, &instance), Ok(42)) {
        return Err(format!("{name}: an instance in another store is affected"));
    }
    Ok(())
}

/// Runs every case, reporting all the failures at once.
fn run(cases: Vec<Case>) {
    let linker = linker();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| run_case(&linker, case).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// `f` returning the `i32` `value`: a flat result or the pointer to a return area.
fn returns(value: u32) -> String {
    format!(r#"(func (export "f") (result i32) (i32.const {value}))"#)
}

/// `f` returning the result of the instructions `body`.
fn body(body: &str) -> String {
    format!(r#"(func (export "f") (result i32) {body})"#)
}

/// A data segment of `bytes` at `at`.
fn data(at: u32, bytes: &[u8]) -> String {
    let text: String = bytes.iter().map(|b| format!("\\{b:02x}")).collect();
    format!(r#"(data (i32.const {at}) "{text}")"#)
}

/// Little-endian `u32`s.
fn words(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// `f` returning the return area at 16, which holds `bytes`.
fn returns_bytes(bytes: &[u8]) -> String {
    data(16, bytes) + &returns(16)
}

/// `f` returning the return area at 16, which holds the `u32`s `w`.
fn returns_words(w: &[u32]) -> String {
    returns_bytes(&words(w))
}

/// An error unless `got == want` (for the typed calls of non-trapping cases).
fn expect_eq<T: PartialEq + std::fmt::Debug>(got: T, want: T) -> aot_runtime::Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(aot_runtime::Error::msg(format!(
            "expected {want:?}, got {got:?}"
        )))
    }
}

/// Types the result cases name, exported so that signatures may use them.
const RESULT_DEFS: &str = r#"
  (type $e0 (enum "red" "green" "blue"))
  (export $e "e" (type $e0))
  (type $v0 (variant (case "a") (case "b" u32) (case "c" string)))
  (export $v "v" (type $v0))
  (type $rec0 (record (field "n" u32) (field "s" string)))
  (export $rec "rec" (type $rec0))
  (type $fl0 (flags "x" "y" "z"))
  (export $fl "fl" (type $fl0))
"#;

/// An enum of 300 cases: a two-byte discriminant.
fn big_enum() -> String {
    let cases: String = (0..300).map(|i| format!(" \"c{i}\"")).collect();
    format!("{RESULT_DEFS}  (type $big0 (enum{cases}))\n  (export $big \"big\" (type $big0))\n")
}

/// Guest -> host: the results of `f` lie.
fn result_cases() -> Vec<Case> {
    use Expect::Trap as T;
    use Trap::*;
    let string = "(result string)";
    let string_typed: Typed = |s, i| typed::<(), (String,)>(s, i, ()).map(drop);
    let list_u64 = "(result (list u64))";
    let list_u64_typed: Typed = |s, i| typed::<(), (Vec<u64>,)>(s, i, ()).map(drop);
    let char_typed: Typed = |s, i| typed::<(), (char,)>(s, i, ()).map(drop);
    let surrogate_pair: Vec<u8> = "\u{1f44b}"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    vec![
        // Return areas.
        Case::new(
            "return area past the end of memory",
            string,
            returns(0xfffc),
            T(
                PointerOutOfBounds,
                "return area at 0xfffc of 8 bytes, memory is 0x10000 bytes",
            ),
        )
        .typed(string_typed),
        Case::new(
            "return area whose end overflows u32",
            string,
            returns(0xffff_fffc),
            T(PointerOutOfBounds, "return area at 0xfffffffc of 8 bytes"),
        )
        .typed(string_typed),
        Case::new(
            "misaligned return area",
            string,
            returns(18),
            T(UnalignedPointer, "return area at 0x12, alignment 4"),
        )
        .typed(string_typed),
        // Strings.
        Case::new(
            "string past the end of memory",
            string,
            returns_words(&[0xfff0, 0x20]),
            T(
                PointerOutOfBounds,
                "string at 0xfff0 of 32 bytes, memory is 0x10000 bytes",
            ),
        )
        .typed(string_typed),
        Case::new(
            "string whose end overflows u32",
            string,
            returns_words(&[0x20, 0xffff_fff0]),
            T(PointerOutOfBounds, "string at 0x20 of 4294967280 bytes"),
        )
        .typed(string_typed),
        Case::new(
            "empty string one byte past the end of memory",
            string,
            returns_words(&[0x10001, 0]),
            T(PointerOutOfBounds, "string at 0x10001 of 0 bytes"),
        )
        .typed(string_typed),
        Case::new(
            "utf16 string whose byte length overflows u32",
            string,
            returns_words(&[0x20, 0x8000_0000]),
            T(LengthOverflow, "string of 2147483648 x 2 bytes"),
        )
        .encoding("utf16")
        .typed(string_typed),
        Case::new(
            "utf16 string past the end of memory",
            string,
            returns_words(&[0x20, 0x7fff_fff0]),
            T(PointerOutOfBounds, "string at 0x20 of 2147483632 x 2 bytes"),
        )
        .encoding("utf16"),
        Case::new(
            "misaligned utf16 string",
            string,
            returns_words(&[0x41, 1]),
            T(UnalignedPointer, "string at 0x41, alignment 2"),
        )
        .encoding("utf16"),
        Case::new(
            "latin1+utf16 tagged length past the end of memory",
            string,
            returns_words(&[0x20, 0x8000_8000]),
            T(PointerOutOfBounds, "string at 0x20 of 32768 x 2 bytes"),
        )
        .encoding("latin1+utf16")
        .typed(string_typed),
        Case::new(
            "latin1+utf16 tagged length with an unpaired surrogate",
            string,
            data(0x40, b"a\x00\x00\xd8") + &returns_words(&[0x40, 0x8000_0002]),
            T(
                InvalidUtf16,
                "unpaired surrogate 0xd800 at code unit 1 of the string at 0x40",
            ),
        )
        .encoding("latin1+utf16")
        .typed(string_typed),
        Case::new(
            "misaligned latin1+utf16 string",
            string,
            returns_words(&[0x41, 1]),
            T(UnalignedPointer, "string at 0x41, alignment 2"),
        )
        .encoding("latin1+utf16"),
        Case::new(
            "invalid utf8",
            string,
            data(0x40, b"ab\xffc") + &returns_words(&[0x40, 4]),
            T(
                InvalidUtf8,
                "invalid byte at offset 2 of the string at 0x40",
            ),
        )
        .typed(string_typed),
        Case::new(
            "utf8 sequence cut by the length",
            string,
            data(0x40, "a\u{20ac}".as_bytes()) + &returns_words(&[0x40, 3]),
            T(
                InvalidUtf8,
                "invalid byte at offset 1 of the string at 0x40",
            ),
        )
        .typed(string_typed),
        Case::new(
            "overlong utf8 encoding of NUL",
            string,
            data(0x40, b"\xc0\x80") + &returns_words(&[0x40, 2]),
            T(InvalidUtf8, "invalid byte at offset 0"),
        ),
        Case::new(
            "utf16 unpaired low surrogate",
            string,
            data(0x40, b"\x00\xdca\x00") + &returns_words(&[0x40, 2]),
            T(
                InvalidUtf16,
                "unpaired surrogate 0xdc00 at code unit 0 of the string at 0x40",
            ),
        )
        .encoding("utf16")
        .typed(string_typed),
        Case::new(
            "utf16 surrogate pair cut by the length",
            string,
            data(0x40, &surrogate_pair) + &returns_words(&[0x40, 1]),
            T(InvalidUtf16, "unpaired surrogate 0xd83d at code unit 0"),
        )
        .encoding("utf16"),
        // Chars.
        Case::new(
            "char that is a high surrogate",
            "(result char)",
            returns(0xd800),
            T(InvalidChar, "0xd800"),
        )
        .typed(char_typed),
        Case::new(
            "char that is a low surrogate",
            "(result char)",
            returns(0xdfff),
            T(InvalidChar, "0xdfff"),
        ),
        Case::new(
            "char above 0x10ffff",
            "(result char)",
            returns(0x11_0000),
            T(InvalidChar, "0x110000"),
        )
        .typed(char_typed),
        Case::new(
            "char of all ones",
            "(result char)",
            returns(u32::MAX),
            T(InvalidChar, "0xffffffff"),
        ),
        Case::new(
            "char in memory that is a surrogate",
            "(result (tuple char char))",
            returns_words(&[0x41, 0xdfff]),
            T(InvalidChar, "0xdfff"),
        )
        .typed(|s, i| typed::<(), ((char, char),)>(s, i, ()).map(drop)),
        // Discriminants.
        Case::new(
            "enum discriminant out of range",
            "(result $e)",
            returns(3),
            T(InvalidDiscriminant, "3 for enum with 3 cases"),
        )
        .defs(RESULT_DEFS),
        Case::new(
            "two-byte enum discriminant out of range in memory",
            "(result (tuple $big u8))",
            returns_bytes(&[0x2c, 0x01, 7, 0]),
            T(InvalidDiscriminant, "300 for enum with 300 cases"),
        )
        .defs(&big_enum()),
        Case::new(
            "flat result discriminant out of range",
            "(result (result))",
            returns(2),
            T(InvalidDiscriminant, "2 for result with 2 cases"),
        )
        .typed(|s, i| typed::<(), (Result<(), ()>,)>(s, i, ()).map(drop)),
        Case::new(
            "option discriminant out of range in memory",
            "(result (option u32))",
            returns_words(&[2, 7]),
            T(InvalidDiscriminant, "2 for option with 2 cases"),
        )
        .typed(|s, i| typed::<(), (Option<u32>,)>(s, i, ()).map(drop)),
        Case::new(
            "result discriminant out of range in memory",
            "(result (result u32 (error string)))",
            returns_words(&[0xff, 0, 0]),
            T(InvalidDiscriminant, "255 for result with 2 cases"),
        )
        .typed(|s, i| typed::<(), (Result<u32, String>,)>(s, i, ()).map(drop)),
        Case::new(
            "variant discriminant out of range in memory",
            "(result $v)",
            returns_words(&[3, 0, 0]),
            T(InvalidDiscriminant, "3 for variant with 3 cases"),
        )
        .defs(RESULT_DEFS),
        Case::new(
            "variant payload string past the end of memory",
            "(result $v)",
            returns_words(&[2, 0xfff8, 0x10]),
            T(PointerOutOfBounds, "string at 0xfff8 of 16 bytes"),
        )
        .defs(RESULT_DEFS),
        // Lists.
        Case::new(
            "list<u64> whose byte size overflows u32",
            list_u64,
            returns_words(&[0x40, 0x2000_0000]),
            T(LengthOverflow, "list<u64> of 536870912 x 8 bytes"),
        )
        .typed(list_u64_typed),
        Case::new(
            "list<u64> of u32::MAX elements",
            list_u64,
            returns_words(&[0x40, u32::MAX]),
            T(LengthOverflow, "list<u64> of 4294967295 x 8 bytes"),
        ),
        Case::new(
            "misaligned list<u64>",
            list_u64,
            returns_words(&[0x44, 1]),
            T(UnalignedPointer, "list<u64> at 0x44, alignment 8"),
        )
        .typed(list_u64_typed),
        // Alignment is checked whatever the length (`load_list_from_range`).
        Case::new(
            "empty list<u64> at a misaligned pointer",
            list_u64,
            returns_words(&[0x44, 0]),
            T(UnalignedPointer, "list<u64> at 0x44, alignment 8"),
        )
        .typed(list_u64_typed),
        Case::new(
            "empty utf16 string at an odd pointer",
            string,
            returns_words(&[0x41, 0]),
            T(UnalignedPointer, "string at 0x41, alignment 2"),
        )
        .encoding("utf16")
        .typed(string_typed),
        Case::new(
            "list<u64> past the end of memory",
            list_u64,
            returns_words(&[0xfff8, 2]),
            T(PointerOutOfBounds, "list<u64> at 0xfff8 of 2 x 8 bytes"),
        )
        .typed(list_u64_typed),
        Case::new(
            "list<u8> past the end of memory",
            "(result (list u8))",
            returns_words(&[0xffff, 2]),
            T(PointerOutOfBounds, "list<u8> at 0xffff of 2 bytes"),
        )
        .typed(|s, i| typed::<(), (Vec<u8>,)>(s, i, ()).map(drop)),
        Case::new(
            "list of records past the end of memory",
            "(result (list $rec))",
            returns_words(&[0xfff0, 2]),
            T(
                PointerOutOfBounds,
                "at 0xfff0 of 2 x 12 bytes, memory is 0x10000 bytes",
            ),
        )
        .defs(RESULT_DEFS),
        Case::new(
            "list of records whose second element's string is out of bounds",
            "(result (list $rec))",
            data(0x100, &words(&[1, 0x40, 0, 2, 0xffff, 2])) + &returns_words(&[0x100, 2]),
            T(PointerOutOfBounds, "string at 0xffff of 2 bytes"),
        )
        .defs(RESULT_DEFS),
        Case::new(
            "list<string> whose second string is invalid utf8",
            "(result (list string))",
            data(0x40, b"ok\xff")
                + &data(0x100, &words(&[0x40, 2, 0x42, 1]))
                + &returns_words(&[0x100, 2]),
            T(
                InvalidUtf8,
                "invalid byte at offset 0 of the string at 0x42",
            ),
        )
        .typed(|s, i| typed::<(), (Vec<String>,)>(s, i, ()).map(drop)),
        Case::new(
            "list<list<u8>> whose inner list is out of bounds",
            "(result (list (list u8)))",
            data(0x100, &words(&[0x40, 1, 0x10000, 1])) + &returns_words(&[0x100, 2]),
            T(PointerOutOfBounds, "list<u8> at 0x10000"),
        )
        .typed(|s, i| typed::<(), (Vec<Vec<u8>>,)>(s, i, ()).map(drop)),
    ]
}

/// Guest -> host: lies the specification does not trap on, with the values it gives.
fn non_trapping_cases() -> Vec<Case> {
    use Expect::Value as V;
    vec![
        // `convert_int_to_bool`: any nonzero value is true.
        Case::new(
            "bool of 2",
            "(result bool)",
            returns(2),
            V(|| Val::Bool(true)),
        )
        .typed(|s, i| expect_eq(typed::<(), (bool,)>(s, i, ())?, (true,))),
        Case::new(
            "bool of all ones",
            "(result bool)",
            returns(u32::MAX),
            V(|| Val::Bool(true)),
        ),
        Case::new(
            "bools in memory of 2 and 0xff",
            "(result (tuple bool bool bool))",
            returns_bytes(&[0, 2, 0xff, 0]),
            V(|| Val::Tuple(vec![Val::Bool(false), Val::Bool(true), Val::Bool(true)])),
        )
        .typed(|s, i| {
            let got = typed::<(), ((bool, bool, bool),)>(s, i, ())?;
            expect_eq(got, ((false, true, true),))
        }),
        // `unpack_flags_from_int` reads only the labels' bits.
        Case::new(
            "flags with bits beyond the labels",
            "(result $fl)",
            returns(0xff),
            V(|| Val::Flags(vec!["x".into(), "y".into(), "z".into()])),
        )
        .defs(RESULT_DEFS),
        Case::new(
            "flags with only bits beyond the labels",
            "(result $fl)",
            returns(0xffff_fff8),
            V(|| Val::Flags(Vec::new())),
        )
        .defs(RESULT_DEFS),
        Case::new(
            "flags in memory with bits beyond the labels",
            "(result (tuple $fl u8))",
            returns_bytes(&[0xfa, 7]),
            V(|| Val::Tuple(vec![Val::Flags(vec!["y".into()]), Val::U8(7)])),
        )
        .defs(RESULT_DEFS),
        // `lift_flat_unsigned` / `lift_flat_signed` keep the low bits.
        Case::new(
            "u8 of 0x1ff",
            "(result u8)",
            returns(0x1ff),
            V(|| Val::U8(0xff)),
        )
        .typed(|s, i| expect_eq(typed::<(), (u8,)>(s, i, ())?, (0xff,))),
        Case::new(
            "s8 of 0x180",
            "(result s8)",
            returns(0x180),
            V(|| Val::S8(-128)),
        ),
        Case::new(
            "u16 of 0x12345",
            "(result u16)",
            returns(0x12345),
            V(|| Val::U16(0x2345)),
        ),
        // Boundaries that are valid.
        Case::new(
            "char 0x10ffff",
            "(result char)",
            returns(0x10_ffff),
            V(|| Val::Char('\u{10ffff}')),
        ),
        Case::new(
            "empty string at the very end of memory",
            "(result string)",
            returns_words(&[0x10000, 0]),
            V(|| Val::String(String::new())),
        )
        .typed(|s, i| expect_eq(typed::<(), (String,)>(s, i, ())?, (String::new(),))),
        Case::new(
            "untagged latin1+utf16 length is latin-1",
            "(result string)",
            data(0x40, b"h\xe9") + &returns_words(&[0x40, 2]),
            V(|| Val::String("h\u{e9}".into())),
        )
        .encoding("latin1+utf16"),
        Case::new(
            "empty list<u64> at an out-of-bounds aligned pointer",
            "(result (list u64))",
            returns_words(&[0x10000, 0]),
            V(|| Val::List(Vec::new())),
        ),
    ]
}

#[test]
fn lying_results_trap() {
    run(result_cases());
}

#[test]
fn lies_the_specification_does_not_trap_on() {
    run(non_trapping_cases());
}

/// A `realloc` always returning `ptr`.
fn realloc_returning(ptr: u32) -> String {
    format!(
        r#"(func (export "bad-realloc") (param i32 i32 i32 i32) (result i32) (i32.const {ptr}))"#
    )
}

/// `f(s: string) -> u32`: 1000 * the length + the first byte the guest received.
const TAKES_STRING: &str = r#"(param "s" string) (result u32)"#;
const TAKES_STRING_CORE: &str = r#"(func (export "f") (param i32 i32) (result i32)
      (i32.add (i32.mul (local.get 1) (i32.const 1000))
        (if (result i32) (local.get 1) (then (i32.load8_u (local.get 0))) (else (i32.const 0)))))"#;

/// Nine strings: the parameters spill to memory, which `realloc` allocates.
const TAKES_NINE: &str = r#"(param "a" string) (param "b" string) (param "c" string)
    (param "d" string) (param "e" string) (param "f" string) (param "g" string)
    (param "h" string) (param "i" string) (result u32)"#;

/// Host -> guest: the guest's `realloc` lies while the host lowers the arguments.
fn realloc_cases() -> Vec<Case> {
    use Expect::Trap as T;
    use Trap::*;
    let hello: Params = |_| vec![Val::String("hello".into())];
    let hello_typed: Typed = |s, i| typed::<(&str,), (u32,)>(s, i, ("hello",)).map(drop);
    vec![
        Case::new(
            "realloc returns a pointer past the end of memory",
            TAKES_STRING,
            TAKES_STRING_CORE,
            T(
                PointerOutOfBounds,
                "string from realloc at 0xfffe of 5 bytes, memory is 0x10000 bytes",
            ),
        )
        .lift_realloc(&realloc_returning(0xfffe))
        .params(hello)
        .typed(hello_typed),
        Case::new(
            "realloc returns a pointer whose end overflows u32",
            TAKES_STRING,
            TAKES_STRING_CORE,
            T(
                PointerOutOfBounds,
                "string from realloc at 0xfffffffe of 5 bytes",
            ),
        )
        .lift_realloc(&realloc_returning(0xffff_fffe))
        .params(hello)
        .typed(hello_typed),
        Case::new(
            "realloc returns a pointer past the end for an empty string",
            TAKES_STRING,
            TAKES_STRING_CORE,
            T(
                PointerOutOfBounds,
                "string from realloc at 0x10001 of 0 bytes",
            ),
        )
        .lift_realloc(&realloc_returning(0x10001))
        .params(|_| vec![Val::String(String::new())])
        .typed(|s, i| typed::<(&str,), (u32,)>(s, i, ("",)).map(drop)),
        Case::new(
            "realloc returns a misaligned pointer for list<u32>",
            r#"(param "l" (list u32)) (result u32)"#,
            r#"(func (export "f") (param i32 i32) (result i32) (local.get 1))"#,
            T(
                UnalignedPointer,
                "list<u32> from realloc at 0x102, alignment 4",
            ),
        )
        .lift_realloc(&realloc_returning(0x102))
        .params(|_| vec![Val::List(vec![Val::U32(1), Val::U32(2)])])
        .typed(|s, i| typed::<(&[u32],), (u32,)>(s, i, (&[1, 2],)).map(drop)),
        // `store_list_into_range` calls `realloc` and checks its result even for no bytes.
        Case::new(
            "realloc returns a misaligned pointer for an empty list<u32>",
            r#"(param "l" (list u32)) (result u32)"#,
            r#"(func (export "f") (param i32 i32) (result i32) (local.get 1))"#,
            T(
                UnalignedPointer,
                "list<u32> from realloc at 0x102, alignment 4",
            ),
        )
        .lift_realloc(&realloc_returning(0x102))
        .params(|_| vec![Val::List(Vec::new())])
        .typed(|s, i| typed::<(&[u32],), (u32,)>(s, i, (&[],)).map(drop)),
        Case::new(
            "realloc returns a misaligned pointer for a utf16 string",
            TAKES_STRING,
            TAKES_STRING_CORE,
            T(
                UnalignedPointer,
                "string from realloc at 0x101, alignment 2",
            ),
        )
        .encoding("utf16")
        .lift_realloc(&realloc_returning(0x101))
        .params(hello)
        .typed(hello_typed),
        Case::new(
            "realloc returns a misaligned pointer for a latin1+utf16 string",
            TAKES_STRING,
            TAKES_STRING_CORE,
            T(
                UnalignedPointer,
                "string from realloc at 0x101, alignment 2",
            ),
        )
        .encoding("latin1+utf16")
        .lift_realloc(&realloc_returning(0x101))
        .params(hello),
        Case::new(
            "realloc traps",
            TAKES_STRING,
            TAKES_STRING_CORE,
            T(UnreachableCodeReached, ""),
        )
        .lift_realloc(
            r#"(func (export "bad-realloc") (param i32 i32 i32 i32) (result i32) unreachable)"#,
        )
        .params(hello)
        .typed(hello_typed),
        Case::new(
            "realloc lies on its second call",
            r#"(param "l" (list string)) (result u32)"#,
            r#"(func (export "f") (param i32 i32) (result i32) (local.get 1))"#,
            T(
                PointerOutOfBounds,
                "string from realloc at 0x10000 of 1 bytes",
            ),
        )
        .lift_realloc(
            r#"(global $n (mut i32) (i32.const 0))
    (func (export "bad-realloc") (param i32 i32 i32 i32) (result i32)
      (global.set $n (i32.add (global.get $n) (i32.const 1)))
      (if (result i32) (i32.eq (global.get $n) (i32.const 2))
        (then (i32.const 0x10000)) (else (i32.const 0x100))))"#,
        )
        .params(|_| {
            vec![Val::List(vec![
                Val::String("a".into()),
                Val::String("b".into()),
            ])]
        })
        .typed(|s, i| typed::<(&[&str],), (u32,)>(s, i, (&["a", "b"],)).map(drop)),
        Case::new(
            "realloc returns spilled parameters past the end of memory",
            TAKES_NINE,
            r#"(func (export "f") (param i32) (result i32) (i32.const 0))"#,
            T(
                PointerOutOfBounds,
                "spilled parameters from realloc at 0xfff0 of 72 bytes",
            ),
        )
        .lift_realloc(&realloc_returning(0xfff0))
        .params(|_| (0..9).map(|_| Val::String("s".into())).collect()),
        // Not a lie: memory grown by `realloc` is seen by the next checks and writes.
        Case::new(
            "realloc grows the memory and returns the new page",
            TAKES_STRING,
            TAKES_STRING_CORE,
            Expect::Value(|| Val::U32(5 * 1000 + u32::from(b'h'))),
        )
        .lift_realloc(
            r#"(func (export "bad-realloc") (param i32 i32 i32 i32) (result i32)
      (i32.mul (memory.grow (i32.const 1)) (i32.const 0x10000)))"#,
        )
        .params(hello)
        .typed(|s, i| expect_eq(typed::<(&str,), (u32,)>(s, i, ("hello",))?, (5104,))),
    ]
}

#[test]
fn lying_reallocs_trap() {
    run(realloc_cases());
}

/// `(result u32)`, the signature of the export of the import cases.
const RETURNS_U32: &str = "(result u32)";

/// Guest -> host imports: the guest lies in the arguments (the host function does not run), or
/// in the return area and `realloc` of the host's results (after it ran).
fn import_cases() -> Vec<Case> {
    use Expect::Trap as T;
    use Trap::*;
    let u32_typed: Typed = |s, i| typed::<(), (u32,)>(s, i, ()).map(drop);
    vec![
        Case::new(
            "string argument past the end of memory",
            RETURNS_U32,
            body("(call $take-string (i32.const 0xfff0) (i32.const 0x20))"),
            T(
                PointerOutOfBounds,
                "string at 0xfff0 of 32 bytes, memory is 0x10000 bytes",
            ),
        )
        .typed(u32_typed),
        Case::new(
            "string argument whose end overflows u32",
            RETURNS_U32,
            body("(call $take-string (i32.const 0x20) (i32.const -1))"),
            T(PointerOutOfBounds, "string at 0x20 of 4294967295 bytes"),
        ),
        Case::new(
            "invalid utf8 argument",
            RETURNS_U32,
            data(0x40, b"\xc0\x80") + &body("(call $take-string (i32.const 0x40) (i32.const 2))"),
            T(
                InvalidUtf8,
                "invalid byte at offset 0 of the string at 0x40",
            ),
        )
        .typed(u32_typed),
        Case::new(
            "utf16 argument with an unpaired surrogate",
            RETURNS_U32,
            data(0x40, b"\x00\xd8") + &body("(call $take-string (i32.const 0x40) (i32.const 1))"),
            T(
                InvalidUtf16,
                "unpaired surrogate 0xd800 at code unit 0 of the string at 0x40",
            ),
        )
        .encoding("utf16"),
        Case::new(
            "utf16 argument whose byte length overflows u32",
            RETURNS_U32,
            body("(call $take-string (i32.const 0x40) (i32.const 0x80000000))"),
            T(LengthOverflow, "string of 2147483648 x 2 bytes"),
        )
        .encoding("utf16"),
        Case::new(
            "option argument with discriminant 2",
            RETURNS_U32,
            body("(call $take-option (i32.const 2) (i32.const 7))"),
            T(InvalidDiscriminant, "2 for option with 2 cases"),
        )
        .typed(u32_typed),
        Case::new(
            "enum argument out of range",
            RETURNS_U32,
            body("(call $take-color (i32.const 3))"),
            T(InvalidDiscriminant, "3 for enum with 3 cases"),
        ),
        Case::new(
            "enum argument of all ones",
            RETURNS_U32,
            body("(call $take-color (i32.const -1))"),
            T(InvalidDiscriminant, "4294967295 for enum with 3 cases"),
        ),
        Case::new(
            "joined result argument with discriminant 2",
            RETURNS_U32,
            body("(call $take-result (i32.const 2) (i64.const 7))"),
            T(InvalidDiscriminant, "2 for result with 2 cases"),
        )
        .typed(u32_typed),
        // Not a lie (`wrap_i64_to_i32`): an `u32` case read from the joined `i64` keeps the low
        // 32 bits.
        Case::new(
            "joined i64 slot with high bits for an u32 case",
            RETURNS_U32,
            body("(call $take-result (i32.const 1) (i64.const 0x100000007))"),
            Expect::Value(|| Val::U32(1_000_007)),
        )
        .host_calls(1)
        .typed(|s, i| expect_eq(typed::<(), (u32,)>(s, i, ())?, (1_000_007,))),
        Case::new(
            "char argument that is a surrogate",
            RETURNS_U32,
            body("(call $take-char (i32.const 0xdfff))"),
            T(InvalidChar, "0xdfff"),
        )
        .typed(u32_typed),
        Case::new(
            "char argument above 0x10ffff",
            RETURNS_U32,
            body("(call $take-char (i32.const 0x110000))"),
            T(InvalidChar, "0x110000"),
        ),
        Case::new(
            "misaligned list<u64> argument",
            RETURNS_U32,
            body("(call $take-list (i32.const 0x44) (i32.const 1))"),
            T(UnalignedPointer, "list<u64> at 0x44, alignment 8"),
        ),
        Case::new(
            "list<u64> argument whose byte size overflows u32",
            RETURNS_U32,
            body("(call $take-list (i32.const 0x40) (i32.const 0x20000000))"),
            T(LengthOverflow, "list<u64> of 536870912 x 8 bytes"),
        ),
        Case::new(
            "spilled arguments past the end of memory",
            RETURNS_U32,
            body("(call $take-many (i32.const 0xfff0))"),
            T(
                PointerOutOfBounds,
                "spilled parameters at 0xfff0 of 72 bytes",
            ),
        )
        .typed(u32_typed),
        Case::new(
            "misaligned spilled arguments",
            RETURNS_U32,
            body("(call $take-many (i32.const 0x42))"),
            T(UnalignedPointer, "spilled parameters at 0x42, alignment 4"),
        ),
        Case::new(
            "a spilled string argument past the end of memory",
            RETURNS_U32,
            data(
                0x100,
                &words(&[
                    0x40, 0, 0x40, 0, 0x40, 0, 0x40, 0, 0x40, 0, 0x40, 0, 0x40, 0, 0x40, 0, 0xfff0,
                    0x20,
                ]),
            ) + &body("(call $take-many (i32.const 0x100))"),
            T(PointerOutOfBounds, "string at 0xfff0 of 32 bytes"),
        ),
        // The results: the host ran, then lowering its result into the liar traps.
        Case::new(
            "return area for the host's result past the end of memory",
            RETURNS_U32,
            body("(call $give-string (i32.const 0xfffc)) (i32.const 0)"),
            T(PointerOutOfBounds, "return area at 0xfffc of 8 bytes"),
        )
        .host_calls(1)
        .typed(u32_typed),
        Case::new(
            "misaligned return area for the host's result",
            RETURNS_U32,
            body("(call $give-string (i32.const 0x42)) (i32.const 0)"),
            T(UnalignedPointer, "return area at 0x42, alignment 4"),
        )
        .host_calls(1),
        Case::new(
            "realloc for the host's result returns a pointer past the end of memory",
            RETURNS_U32,
            body("(call $give-string (i32.const 0x40)) (i32.const 0)"),
            T(
                PointerOutOfBounds,
                "string from realloc at 0xfff8 of 13 bytes",
            ),
        )
        .lower_realloc(&realloc_returning(0xfff8))
        .host_calls(1)
        .typed(u32_typed),
        Case::new(
            "realloc for the host's result traps",
            RETURNS_U32,
            body("(call $give-string (i32.const 0x40)) (i32.const 0)"),
            T(UnreachableCodeReached, ""),
        )
        .lower_realloc(
            r#"(func (export "bad-realloc") (param i32 i32 i32 i32) (result i32) unreachable)"#,
        )
        .host_calls(1),
        // Not a lie: a well-behaved call through the same imports.
        Case::new(
            "the host's result through a valid return area",
            RETURNS_U32,
            body("(call $give-string (i32.const 0x40)) (i32.load (i32.const 0x44))"),
            Expect::Value(|| Val::U32(13)),
        )
        .host_calls(1),
    ]
}

#[test]
fn lying_import_calls_trap_before_the_host_runs() {
    run(import_cases());
}

/// A new host counter, lent to the call as a borrow.
fn counter_borrow(store: &mut Store<Host>) -> Vec<Val> {
    let counter = store.data_mut().table.push(Counter(0)).unwrap();
    let any = Resource::<Counter>::new_borrow(counter.rep())
        .try_into_resource_any(&mut *store)
        .unwrap();
    vec![Val::Resource(any)]
}

/// `f` taking a borrowed host counter.
const TAKES_BORROW: &str = r#"(param "c" (borrow $counter)) (result u32)"#;

/// Handles: indices that do not exist, of another type, a borrow as an own, dropped twice,
/// used after the call that lent them.
fn handle_cases() -> Vec<Case> {
    use Expect::Trap as T;
    use Trap::*;
    let own_a_typed: Typed = |s, i| typed::<(), (ResourceAny,)>(s, i, ()).map(drop);
    let u32_typed: Typed = |s, i| typed::<(), (u32,)>(s, i, ()).map(drop);
    let borrow_typed: Typed = |s, i| {
        let counter = s.data_mut().table.push(Counter(0))?;
        typed::<(&Resource<Counter>,), (u32,)>(s, i, (&counter,)).map(drop)
    };
    vec![
        // Own handles in results.
        Case::new(
            "own result handle that does not exist",
            "(result (own $A))",
            returns(5),
            T(UnknownHandle, "handle 5"),
        )
        .typed(own_a_typed),
        Case::new(
            "own result handle 0",
            "(result (own $A))",
            returns(0),
            T(UnknownHandle, "handle 0"),
        )
        .typed(own_a_typed),
        Case::new(
            "own result handle of another resource type",
            "(result (own $A))",
            body("(drop (call $a-new (i32.const 1))) (call $b-new (i32.const 2))"),
            T(HandleTypeMismatch, "handle 2"),
        )
        .typed(own_a_typed),
        Case::new(
            "the same own handle twice in one result",
            "(result (tuple (own $A) (own $A)))",
            r#"(func (export "f") (result i32) (local $h i32)
      (local.set $h (call $a-new (i32.const 1)))
      (i32.store (i32.const 16) (local.get $h))
      (i32.store (i32.const 20) (local.get $h))
      (i32.const 16))"#,
            T(UnknownHandle, "handle 1"),
        )
        .typed(|s, i| typed::<(), ((ResourceAny, ResourceAny),)>(s, i, ()).map(drop)),
        Case::new(
            "a list of own handles with one that does not exist",
            "(result (list (own $A)))",
            r#"(func (export "f") (result i32)
      (i32.store (i32.const 0x40) (call $a-new (i32.const 1)))
      (i32.store (i32.const 0x44) (i32.const 9))
      (i32.store (i32.const 16) (i32.const 0x40))
      (i32.store (i32.const 20) (i32.const 2))
      (i32.const 16))"#,
            T(UnknownHandle, "handle 9"),
        )
        .typed(|s, i| typed::<(), (Vec<ResourceAny>,)>(s, i, ()).map(drop)),
        Case::new(
            "a borrow returned as an own handle",
            r#"(param "c" (borrow $counter)) (result (own $counter))"#,
            r#"(func (export "f") (param i32) (result i32) (local.get 0))"#,
            T(
                HandleTypeMismatch,
                "handle 1 is a borrow, not an own handle",
            ),
        )
        .params(counter_borrow)
        .typed(|s, i| {
            let counter = s.data_mut().table.push(Counter(0))?;
            typed::<(&Resource<Counter>,), (Resource<Counter>,)>(s, i, (&counter,)).map(drop)
        }),
        // Handles given to host imports (the host does not run).
        Case::new(
            "a handle that does not exist given to the host",
            RETURNS_U32,
            body("(call $inc (i32.const 7))"),
            T(UnknownHandle, "handle 7"),
        )
        .typed(u32_typed),
        Case::new(
            "a guest resource handle given as a host resource",
            RETURNS_U32,
            body("(call $inc (call $a-new (i32.const 1)))"),
            T(HandleTypeMismatch, "handle 1"),
        )
        .typed(u32_typed),
        Case::new(
            "a borrow given to the host as an own handle",
            TAKES_BORROW,
            r#"(func (export "f") (param i32) (result i32) (call $consume (local.get 0)))"#,
            T(
                HandleTypeMismatch,
                "handle 1 is a borrow, not an own handle",
            ),
        )
        .params(counter_borrow)
        .typed(borrow_typed),
        Case::new(
            "an own handle used after it was given to the host",
            RETURNS_U32,
            r#"(func (export "f") (result i32) (local $h i32)
      (local.set $h (call $new (i32.const 1)))
      (drop (call $consume (local.get $h)))
      (call $inc (local.get $h)))"#,
            T(UnknownHandle, "handle 1"),
        )
        .host_calls(2)
        .typed(u32_typed),
        // Builtins.
        Case::new(
            "a borrow dropped twice",
            TAKES_BORROW,
            r#"(func (export "f") (param i32) (result i32)
      (call $counter-drop (local.get 0))
      (call $counter-drop (local.get 0))
      (i32.const 0))"#,
            T(UnknownHandle, "handle 1"),
        )
        .params(counter_borrow)
        .typed(borrow_typed),
        Case::new(
            "resource.rep of a handle of another type",
            RETURNS_U32,
            body("(call $a-rep (call $b-new (i32.const 1)))"),
            T(HandleTypeMismatch, "handle 1"),
        ),
        Case::new(
            "resource.rep of handle 0",
            RETURNS_U32,
            body("(call $a-rep (i32.const 0))"),
            T(UnknownHandle, "handle 0"),
        ),
        Case::new(
            "resource.drop of handle u32::MAX",
            RETURNS_U32,
            body("(call $a-drop (i32.const -1)) (i32.const 0)"),
            T(UnknownHandle, "handle 4294967295"),
        ),
        // A borrow kept past the call that lent it: `stash` stores the handle and drops it (as
        // it must before returning); `f`, a later call, uses the stored index.
        Case::new(
            "a borrow used after the call that lent it returned",
            RETURNS_U32,
            r#"(global $stashed (mut i32) (i32.const 0))
    (func (export "stash") (param i32)
      (global.set $stashed (local.get 0))
      (call $counter-drop (local.get 0)))
    (func (export "f") (result i32) (call $inc (global.get $stashed)))"#,
            T(UnknownHandle, "handle 1"),
        )
        .exports(
            r#"(func (export "stash") (param "c" (borrow $counter))
    (canon lift (core func $i "stash")))"#,
        )
        .setup(|s, i| {
            let counter = s.data_mut().table.push(Counter(0))?;
            let stash = i.get_typed_func::<(&Resource<Counter>,), ()>(&mut *s, "stash")?;
            stash.call(&mut *s, (&counter,))
        })
        .typed(u32_typed),
    ]
}

#[test]
fn lying_handles_trap() {
    run(handle_cases());
}

/// `string-encoding=` option text (empty: UTF-8).
fn encoding_option(encoding: &str) -> String {
    if encoding.is_empty() {
        String::new()
    } else {
        format!(" string-encoding={encoding}")
    }
}

/// A guest -> guest call: the outer component's `f` (core fields `outer`, string encoding
/// `outer_encoding`) calls `$g`, the lowering of the nested component's `f(s: string) -> u32`,
/// which passes the string on to the host's `take-string`. The inner `f` is lifted with string
/// encoding `inner_encoding` and the `realloc` exported by `inner_mem` as `bad-realloc` (if
/// any).
fn adapter(outer: &str, outer_encoding: &str, inner_mem: &str, inner_encoding: &str) -> String {
    let realloc = if inner_mem.is_empty() {
        "realloc"
    } else {
        "bad-realloc"
    };
    let (outer_encoding, inner_encoding) = (
        encoding_option(outer_encoding),
        encoding_option(inner_encoding),
    );
    let bump = r#"(memory (export "memory") 1)
      (global $bump (mut i32) (i32.const 0x8000))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and
          (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get 2))))
        (global.set $bump (i32.add (local.get $p) (local.get 3)))
        (local.get $p))"#;
    format!(
        r#"(component
  (import "test:hostile/host" (instance $host
    (export "take-string" (func (param "s" string) (result u32)))))
  (alias export $host "take-string" (func $take-string))
  (component $inner
    (import "take-string" (func $take (param "s" string) (result u32)))
    (core module $mem
      {bump}
      {inner_mem})
    (core instance $m (instantiate $mem))
    (alias core export $m "memory" (core memory $memory))
    (alias core export $m "realloc" (core func $realloc))
    (alias core export $m "{realloc}" (core func $lift-realloc))
    (core func $take (canon lower (func $take) (memory $memory) (realloc $realloc){inner_encoding}))
    (core module $impl
      (import "h" "take" (func $take (param i32 i32) (result i32)))
      (func (export "f") (param i32 i32) (result i32) (call $take (local.get 0) (local.get 1))))
    (core instance $i (instantiate $impl (with "h" (instance (export "take" (func $take))))))
    (func (export "f") (param "s" string) (result u32)
      (canon lift (core func $i "f") (memory $memory) (realloc $lift-realloc){inner_encoding})))
  (instance $in (instantiate $inner (with "take-string" (func $take-string))))
  (alias export $in "f" (func $inner-f))
  (core module $mem
    {bump})
  (core instance $m (instantiate $mem))
  (alias core export $m "memory" (core memory $memory))
  (alias core export $m "realloc" (core func $realloc))
  (core func $g (canon lower (func $inner-f) (memory $memory) (realloc $realloc){outer_encoding}))
  (core module $impl
    (import "m" "memory" (memory 1))
    (import "h" "g" (func $g (param i32 i32) (result i32)))
    (func (export "ok") (result i32) (i32.const 42))
    {outer})
  (core instance $i (instantiate $impl
    (with "m" (instance $m))
    (with "h" (instance (export "g" (func $g))))))
  (func (export "f") (result u32) (canon lift (core func $i "f")))
  (func (export "ok") (result u32) (canon lift (core func $i "ok")))
)
"#
    )
}

/// Guest -> guest: the caller lies in the arguments, or the callee's `realloc` lies while the
/// adapter copies them; the host function behind the callee never runs.
fn adapter_cases() -> Vec<Case> {
    use Expect::Trap as T;
    use Trap::*;
    let hello = data(0x40, b"hello");
    let call_hello = body("(call $g (i32.const 0x40) (i32.const 5))");
    vec![
        Case::text(
            "a caller's string past the end of its memory",
            adapter(
                &body("(call $g (i32.const 0xfff0) (i32.const 0x20))"),
                "",
                "",
                "",
            ),
            T(PointerOutOfBounds, "string at 0xfff0 of 32 bytes"),
        ),
        Case::text(
            "a caller's invalid utf8",
            adapter(
                &(data(0x40, b"\xff") + &body("(call $g (i32.const 0x40) (i32.const 1))")),
                "",
                "",
                "utf16",
            ),
            T(
                InvalidUtf8,
                "invalid byte at offset 0 of the string at 0x40",
            ),
        ),
        Case::text(
            "a caller's unpaired surrogate transcoded to utf8",
            adapter(
                &(data(0x40, b"\x00\xdc") + &body("(call $g (i32.const 0x40) (i32.const 1))")),
                "utf16",
                "",
                "",
            ),
            T(InvalidUtf16, "unpaired surrogate 0xdc00"),
        ),
        Case::text(
            "the callee's realloc returns a pointer past the end of its memory",
            adapter(
                &(hello.clone() + &call_hello),
                "",
                &realloc_returning(0xfffe),
                "",
            ),
            T(
                PointerOutOfBounds,
                "string from realloc at 0xfffe of 5 bytes",
            ),
        ),
        Case::text(
            "the callee's realloc returns a misaligned pointer for utf16",
            adapter(
                &(hello.clone() + &call_hello),
                "",
                &realloc_returning(0x8001),
                "utf16",
            ),
            T(
                UnalignedPointer,
                "string from realloc at 0x8001, alignment 2",
            ),
        ),
        Case::text(
            "the callee's realloc traps",
            adapter(
                &(hello.clone() + &call_hello),
                "latin1+utf16",
                r#"(func (export "bad-realloc") (param i32 i32 i32 i32) (result i32) unreachable)"#,
                "",
            ),
            T(UnreachableCodeReached, ""),
        ),
        // Not a lie: the same path, well-behaved, reaches the host.
        Case::text(
            "a valid string through the adapter",
            adapter(&(hello + &call_hello), "latin1+utf16", "", "utf16"),
            Expect::Value(|| Val::U32(5)),
        )
        .host_calls(1),
    ]
}

#[test]
fn lying_guest_to_guest_calls_trap() {
    run(adapter_cases());
}
