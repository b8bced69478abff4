//! Rust types made with `#[derive(ComponentType, Lift, Lower)]` and `flags!`, through the real
//! canonical ABI: typed calls of `fixtures/components/derive.wat` (records with strings and a
//! nested `list<record>`, a variant whose payloads join into one slot, an enum, flags of 3 and
//! 32 labels, flat and in memory), a host import taking and returning a derived variant, functions that check the
//! layout the host wrote or write one for the host, traps on bad discriminants, the C guest of
//! `fixtures/components/c/records` (a real toolchain's layouts), and the type checks: names and
//! order compared exactly, with the first difference named. Flags of 33 and 40 labels are
//! checked for layout and type only: wasmparser refuses components with more than 32 flags.

use aot_runtime::artifact::component::{
    CanonicalAbiInfo, ComponentTypes, ComponentTypesBuilder, InterfaceType as T,
};
use aot_runtime::component::{Component, ComponentType, Lift, Linker, Lower, flags};
use aot_runtime::{EmbeddedComponent, Store, Trap, include_component};

static DERIVE: EmbeddedComponent = include_component!("fixtures/components/derive.wat");

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
struct Person {
    first_name: String,
    age: u32,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
struct Team {
    name: String,
    members: Vec<Person>,
}

/// The fixture's `shape`, generic in the `square` payload (instantiated with `u64`).
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
enum Shape<N> {
    Circle(f32),
    Square(N),
    Label(String),
    Empty,
}

#[derive(ComponentType, Lift, Lower, Copy, Clone, Debug, PartialEq)]
#[component(enum)]
enum Status {
    Ok,
    NotFound,
    #[component(name = "gone")]
    Removed,
}

flags! {
    /// The fixture's `perms`.
    Perms {
        const READ;
        #[component(name = "write-all")]
        const WRITE;
        const EXEC;
    }

    /// The fixture's `wide`: 32 flags, the most wasmparser allows in a component.
    Wide {
        const W0; const W1; const W2; const W3; const W4; const W5; const W6; const W7;
        const W8; const W9; const W10; const W11; const W12; const W13; const W14; const W15;
        const W16; const W17; const W18; const W19; const W20; const W21; const W22; const W23;
        const W24; const W25; const W26; const W27; const W28; const W29; const W30; const W31;
    }

    /// 33 and 40 flags (two words): layout and type checks only, as no component validated by
    /// wasmparser may have more than 32.
    F33 {
        const F0; const F1; const F2; const F3; const F4; const F5; const F6; const F7;
        const F8; const F9; const F10; const F11; const F12; const F13; const F14; const F15;
        const F16; const F17; const F18; const F19; const F20; const F21; const F22; const F23;
        const F24; const F25; const F26; const F27; const F28; const F29; const F30; const F31;
        const F32;
    }

    F40 {
        const F0; const F1; const F2; const F3; const F4; const F5; const F6; const F7;
        const F8; const F9; const F10; const F11; const F12; const F13; const F14; const F15;
        const F16; const F17; const F18; const F19; const F20; const F21; const F22; const F23;
        const F24; const F25; const F26; const F27; const F28; const F29; const F30; const F31;
        const F32; const F33; const F34; const F35; const F36; const F37; const F38; const F39;
    }
}

fn derive_component() -> Component {
    Component::from_embedded(&DERIVE).unwrap()
}

/// A linker whose `shape-through-host` doubles circles, increments squares, shouts labels and
/// labels empties.
fn linker() -> Linker<Vec<Shape<u64>>> {
    let mut linker = Linker::<Vec<Shape<u64>>>::new();
    linker
        .instance("test:derive/host")
        .unwrap()
        .func_wrap(
            "shape-through-host",
            |mut store, (shape,): (Shape<u64>,)| {
                store.data_mut().push(shape.clone());
                Ok((match shape {
                    Shape::Circle(r) => Shape::Circle(r * 2.0),
                    Shape::Square(x) => Shape::Square(x + 1),
                    Shape::Label(s) => Shape::Label(s.to_uppercase() + "!"),
                    Shape::Empty => Shape::Label("was empty".into()),
                },))
            },
        )
        .unwrap();
    linker
}

fn ada() -> Person {
    Person {
        first_name: "Ada".into(),
        age: 36,
    }
}

#[test]
fn records_round_trip_and_keep_their_layout() {
    let c = derive_component();
    let mut store = Store::new(Vec::new());
    let instance = linker().instantiate(&mut store, &c).unwrap();
    let echo = instance
        .get_typed_func::<(Person,), (Person,)>(&mut store, "echo-person")
        .unwrap();
    assert_eq!(echo.call(&mut store, (ada(),)).unwrap(), (ada(),));
    let unicode = Person {
        first_name: "Émilie ☃".into(),
        age: u32::MAX,
    };
    assert_eq!(
        echo.call(&mut store, (unicode.clone(),)).unwrap(),
        (unicode,)
    );
    // `&Person` lowers like `Person`.
    let age = instance
        .get_typed_func::<(&Person,), (u32,)>(&mut store, "person-age")
        .unwrap();
    assert_eq!(age.call(&mut store, (&ada(),)).unwrap(), (36,));

    // A record holding a list of records: the guest sums the `age` at offset 8 of each
    // 12-byte element the host wrote, and the echo lifts the list back from memory.
    let team = Team {
        name: "engines".into(),
        members: vec![
            ada(),
            Person {
                first_name: "Charles".into(),
                age: 40,
            },
            Person {
                first_name: String::new(),
                age: 1,
            },
        ],
    };
    let sum = instance
        .get_typed_func::<(&Team,), (u32,)>(&mut store, "sum-ages")
        .unwrap();
    assert_eq!(sum.call(&mut store, (&team,)).unwrap(), (77,));
    let echo = instance
        .get_typed_func::<(Team,), (Team,)>(&mut store, "echo-team")
        .unwrap();
    assert_eq!(echo.call(&mut store, (team.clone(),)).unwrap(), (team,));
    let empty = Team {
        name: "none".into(),
        members: Vec::new(),
    };
    assert_eq!(echo.call(&mut store, (empty.clone(),)).unwrap(), (empty,));
}

#[test]
fn variants_join_their_payloads_and_pass_through_the_host() {
    let c = derive_component();
    let mut store = Store::new(Vec::new());
    let instance = linker().instantiate(&mut store, &c).unwrap();
    let echo = instance
        .get_typed_func::<(Shape<u64>,), (Shape<u64>,)>(&mut store, "echo-shape")
        .unwrap();
    // `circle(f32)` travels in the slot joined to i64 with `square(u64)`: the guest stores the
    // whole i64 at offset 8, and lifting reads an f32 there.
    let shapes = [
        Shape::Circle(1.5),
        Shape::Circle(-0.0),
        Shape::Square(u64::MAX),
        Shape::Square(0),
        Shape::Label("héllo".into()),
        Shape::Label(String::new()),
        Shape::Empty,
    ];
    for shape in &shapes {
        assert_eq!(echo.call(&mut store, (shape.clone(),)).unwrap().0, *shape);
    }
    let make = instance
        .get_typed_func::<(u64,), (Shape<u64>,)>(&mut store, "make-square")
        .unwrap();
    assert_eq!(make.call(&mut store, (7,)).unwrap(), (Shape::Square(7),));

    // The host import lifts the variant flat and lowers its result into the guest's return
    // area (the label through the guest's realloc).
    let via = instance
        .get_typed_func::<(Shape<u64>,), (Shape<u64>,)>(&mut store, "via-host")
        .unwrap();
    let cases = [
        (Shape::Circle(1.25), Shape::Circle(2.5)),
        (Shape::Square(41), Shape::Square(42)),
        (Shape::Label("hi".into()), Shape::Label("HI!".into())),
        (Shape::Empty, Shape::Label("was empty".into())),
    ];
    for (input, output) in &cases {
        assert_eq!(via.call(&mut store, (input.clone(),)).unwrap().0, *output);
    }
    let seen: Vec<Shape<u64>> = cases.iter().map(|(i, _)| i.clone()).collect();
    assert_eq!(*store.data(), seen);

    // A discriminant out of range traps in the derived lift.
    let bad = instance
        .get_typed_func::<(), (Shape<u64>,)>(&mut store, "bad-shape")
        .unwrap();
    let err = bad.call(&mut store, ()).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::InvalidDiscriminant), "{err}");
    assert_eq!(err.detail(), Some("9 for variant with 4 cases"));
}

#[test]
fn enums_and_flags() {
    let c = derive_component();
    let mut store = Store::new(Vec::new());
    let instance = linker().instantiate(&mut store, &c).unwrap();
    let echo = instance
        .get_typed_func::<(Status,), (Status,)>(&mut store, "echo-status")
        .unwrap();
    for s in [Status::Ok, Status::NotFound, Status::Removed] {
        assert_eq!(echo.call(&mut store, (s,)).unwrap(), (s,));
    }

    let echo = instance
        .get_typed_func::<(Perms,), (Perms,)>(&mut store, "echo-perms")
        .unwrap();
    let bits = instance
        .get_typed_func::<(Perms,), (u32,)>(&mut store, "perms-bits")
        .unwrap();
    for p in [
        Perms::empty(),
        Perms::READ,
        Perms::WRITE | Perms::EXEC,
        Perms::all(),
    ] {
        assert_eq!(echo.call(&mut store, (p,)).unwrap(), (p,));
    }
    // Bit i is the i-th label.
    assert_eq!(bits.call(&mut store, (Perms::READ,)).unwrap(), (1,));
    assert_eq!(
        bits.call(&mut store, (Perms::WRITE | Perms::EXEC,))
            .unwrap(),
        (6,)
    );
    // Bits beyond the labels are ignored when lifting.
    let from_bits = instance
        .get_typed_func::<(u32,), (Perms,)>(&mut store, "perms-from-bits")
        .unwrap();
    assert_eq!(
        from_bits.call(&mut store, (0xff,)).unwrap(),
        (Perms::all(),)
    );

    // 32 flags: bit 31 is the last label.
    let echo = instance
        .get_typed_func::<(Wide,), (Wide,)>(&mut store, "echo-wide")
        .unwrap();
    for w in [Wide::W0 | Wide::W31, Wide::all(), Wide::empty()] {
        assert_eq!(echo.call(&mut store, (w,)).unwrap(), (w,));
    }
    // Flags in memory: a tuple result (1 byte, then 4 bytes at offset 4) and a list parameter.
    let pair = instance
        .get_typed_func::<((Perms, Wide),), ((Perms, Wide),)>(&mut store, "echo-flags-pair")
        .unwrap();
    let p = (Perms::EXEC, Wide::W1 | Wide::W30);
    assert_eq!(pair.call(&mut store, (p,)).unwrap(), (p,));
    let count = instance
        .get_typed_func::<(&[Perms],), (u32,)>(&mut store, "count-perms")
        .unwrap();
    let list = [Perms::READ, Perms::empty(), Perms::all(), Perms::WRITE];
    assert_eq!(count.call(&mut store, (&list[..],)).unwrap(), (5,));

    // A discriminant out of range traps in the derived lift (and poisons the instance).
    let bad = instance
        .get_typed_func::<(), (Status,)>(&mut store, "bad-status")
        .unwrap();
    let err = bad.call(&mut store, ()).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::InvalidDiscriminant), "{err}");
    assert_eq!(err.detail(), Some("7 for enum with 3 cases"));
}

#[test]
fn a_wrong_field_name_is_refused_with_the_first_difference() {
    #[derive(ComponentType, Lift, Lower, Debug)]
    #[component(record)]
    struct WrongPerson {
        name: String,
        age: u32,
    }

    let c = derive_component();
    let mut store = Store::new(Vec::new());
    let instance = linker().instantiate(&mut store, &c).unwrap();
    let err = instance
        .get_typed_func::<(WrongPerson,), (WrongPerson,)>(&mut store, "echo-person")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "expected `record { first-name: string, age: u32 }`, found Rust type `WrongPerson` \
             with field `name` where `first-name` is expected"
        ),
        "{err}"
    );
    assert!(err.contains("echo-person"), "{err}");

    // A host function whose derived type does not match is refused when instantiating.
    #[derive(ComponentType, Lift, Lower, Debug)]
    #[component(variant)]
    enum NoLabel {
        Circle(f32),
        Square(u64),
        Empty,
    }
    let mut linker = Linker::<()>::new();
    linker
        .instance("test:derive/host")
        .unwrap()
        .func_wrap("shape-through-host", |_, (s,): (NoLabel,)| Ok((s,)))
        .unwrap();
    let err = linker
        .instantiate(&mut Store::new(()), &c)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("found Rust type `NoLabel` with case `empty` where `label` is expected"),
        "{err}"
    );
}

/// The interface `test:records/shapes` of the C guest built by wit-bindgen, clang and
/// wasm-tools, with derived types whose names are renamed where Rust's differ.
mod c_records {
    use super::*;

    #[derive(ComponentType, Lift, Lower, Copy, Clone, Debug, PartialEq)]
    #[component(record)]
    pub struct Point {
        pub x: f64,
        pub y: f64,
    }

    #[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
    #[component(variant)]
    pub enum Shape {
        Circle(f64),
        #[component(name = "rect")]
        Rectangle(Point),
        Empty,
    }

    #[derive(ComponentType, Lift, Lower, Copy, Clone, Debug, PartialEq)]
    #[component(enum)]
    pub enum Color {
        Red,
        Green,
        Blue,
    }

    flags! {
        pub Style {
            const BOLD;
            const ITALIC;
            #[component(name = "underline")]
            const UNDERLINED;
        }
    }

    const IFACE: &str = "test:records/shapes@0.1.0";

    #[test]
    fn a_c_guest_agrees_with_the_derived_layouts() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/components/c/records/records.wasm"
        );
        let artifact = aot_tests::compile(std::fs::read(path).unwrap()).unwrap();
        let c = aot_tests::load_component(&artifact).unwrap();
        let mut store = Store::new(());
        let instance = Linker::new().instantiate(&mut store, &c).unwrap();
        let name = |f: &str| format!("{IFACE}#{f}");

        let area = instance
            .get_typed_func::<(Shape,), (f64,)>(&mut store, &name("area"))
            .unwrap();
        let rect = Shape::Rectangle(Point { x: 3.0, y: 4.5 });
        assert_eq!(area.call(&mut store, (rect,)).unwrap(), (13.5,));
        let circle = area.call(&mut store, (Shape::Circle(2.0),)).unwrap().0;
        assert!((circle - 4.0 * core::f64::consts::PI).abs() < 1e-9);
        assert_eq!(area.call(&mut store, (Shape::Empty,)).unwrap(), (0.0,));

        let centroid = instance
            .get_typed_func::<(&[Point],), (Option<Point>,)>(&mut store, &name("centroid"))
            .unwrap();
        let points = [Point { x: 1.0, y: 2.0 }, Point { x: 3.0, y: -2.0 }];
        assert_eq!(
            centroid.call(&mut store, (&points[..],)).unwrap(),
            (Some(Point { x: 2.0, y: 0.0 }),)
        );
        assert_eq!(centroid.call(&mut store, (&[][..],)).unwrap(), (None,));

        let parse = instance
            .get_typed_func::<(&str,), (Result<Color, String>,)>(&mut store, &name("parse-color"))
            .unwrap();
        assert_eq!(
            parse.call(&mut store, ("blue",)).unwrap(),
            (Ok(Color::Blue),)
        );
        assert_eq!(
            parse.call(&mut store, ("mauve",)).unwrap(),
            (Err("unknown color".to_string()),)
        );

        let toggle = instance
            .get_typed_func::<(Style,), (Style,)>(&mut store, &name("toggle-italic"))
            .unwrap();
        let bold = Style::BOLD | Style::UNDERLINED;
        assert_eq!(
            toggle.call(&mut store, (bold,)).unwrap(),
            (bold | Style::ITALIC,)
        );
        assert_eq!(
            toggle.call(&mut store, (Style::ITALIC,)).unwrap(),
            (Style::empty(),)
        );
    }
}

// ---- Layouts and type checks without a component ----

#[test]
fn abi_constants_come_from_the_canonical_abi() {
    let abi = |a: CanonicalAbiInfo| (a.size32, a.align32, a.flat_count);
    assert_eq!(abi(Person::ABI), (12, 4, Some(3)));
    assert_eq!(abi(Team::ABI), (16, 4, Some(4)));
    // Discriminant, then the payload aligned to 8; slots [i32, i64, i32].
    assert_eq!(abi(Shape::<u64>::ABI), (16, 8, Some(3)));
    assert_eq!(abi(Shape::<u8>::ABI), (12, 4, Some(3)));
    assert_eq!(abi(Status::ABI), (1, 1, Some(1)));
    assert_eq!(abi(Perms::ABI), (1, 1, Some(1)));
    assert_eq!(abi(Wide::ABI), (4, 4, Some(1)));
    assert_eq!(abi(F33::ABI), (8, 4, Some(2)));
    assert_eq!(abi(F40::ABI), (8, 4, Some(2)));
    assert_eq!(abi(c_records::Point::ABI), (16, 8, Some(2)));
    assert_eq!(abi(c_records::Shape::ABI), (24, 8, Some(3)));

    // The derived constants are the ones the tables compute for the same types.
    let (types, tys) = fixture_types();
    for (ty, derived) in [
        (tys.person, Person::ABI),
        (tys.team, Team::ABI),
        (tys.shape, Shape::<u64>::ABI),
        (tys.status, Status::ABI),
        (tys.perms, Perms::ABI),
        (tys.wide, Wide::ABI),
        (tys.f33, F33::ABI),
        (tys.f40, F40::ABI),
    ] {
        assert_eq!(types.canonical_abi(&ty), derived, "{}", types.display(&ty));
    }
}

#[test]
fn flags_values() {
    let rw = Perms::READ | Perms::WRITE;
    assert!(rw.contains(Perms::READ));
    assert!(rw.contains(Perms::empty()));
    assert!(!rw.contains(Perms::EXEC));
    assert!(!rw.contains(Perms::all()));
    assert_eq!(rw & Perms::WRITE, Perms::WRITE);
    assert_eq!(rw ^ Perms::all(), Perms::EXEC);
    assert_eq!(!rw, Perms::EXEC);
    assert_eq!(!Perms::all(), Perms::empty());
    assert_eq!(Perms::default(), Perms::empty());
    assert!(Perms::empty().is_empty());
    let mut p = Perms::empty();
    p |= Perms::EXEC;
    p ^= Perms::READ;
    assert_eq!(p, Perms::READ | Perms::EXEC);
    p &= Perms::READ;
    assert_eq!(p, Perms::READ);
    assert_eq!(format!("{rw:?}"), "Perms(READ | WRITE)");
    assert_eq!(format!("{:?}", Perms::empty()), "Perms()");

    // `!` keeps only defined flags, across words.
    assert_eq!(!F33::empty(), F33::all());
    assert_eq!(!F33::F32, F33::all() ^ F33::F32);
    assert_eq!(!Wide::empty(), Wide::all());
    assert_eq!(format!("{:?}", Wide::W31), "Wide(W31)");
    assert_eq!(format!("{:?}", F40::F1 | F40::F39), "F40(F1 | F39)");
    let mut set = std::collections::HashSet::new();
    set.insert(F40::F33);
    assert!(set.contains(&F40::F33) && !set.contains(&F40::F32));
}

/// The fixture's types, built directly.
struct FixtureTypes {
    person: T,
    team: T,
    shape: T,
    status: T,
    perms: T,
    wide: T,
    f33: T,
    f40: T,
}

fn names(names: &[&str]) -> Box<[String]> {
    names.iter().map(|n| n.to_string()).collect()
}

fn fixture_types() -> (ComponentTypes, FixtureTypes) {
    let mut b = ComponentTypesBuilder::new();
    let person = b.record(Box::new([
        ("first-name".into(), T::String),
        ("age".into(), T::U32),
    ]));
    let persons = b.list(person);
    let team = b.record(Box::new([
        ("name".into(), T::String),
        ("members".into(), persons),
    ]));
    let shape = b.variant(Box::new([
        ("circle".into(), Some(T::F32)),
        ("square".into(), Some(T::U64)),
        ("label".into(), Some(T::String)),
        ("empty".into(), None),
    ]));
    let status = b.enumeration(names(&["ok", "not-found", "gone"]));
    let perms = b.flags(names(&["read", "write-all", "exec"]));
    let wide = b.flags((0..32).map(|i| format!("w{i}")).collect());
    let f33 = b.flags((0..33).map(|i| format!("f{i}")).collect());
    let f40 = b.flags((0..40).map(|i| format!("f{i}")).collect());
    let tys = FixtureTypes {
        person,
        team,
        shape,
        status,
        perms,
        wide,
        f33,
        f40,
    };
    (b.finish(), tys)
}

#[test]
fn type_checks_compare_names_and_order_exactly() {
    let (types, tys) = fixture_types();
    let msg = |r: Result<(), aot_runtime::component::TypeMismatch>| r.unwrap_err().to_string();
    Person::typecheck(&tys.person, &types).unwrap();
    Team::typecheck(&tys.team, &types).unwrap();
    Shape::<u64>::typecheck(&tys.shape, &types).unwrap();
    Status::typecheck(&tys.status, &types).unwrap();
    Perms::typecheck(&tys.perms, &types).unwrap();
    Wide::typecheck(&tys.wide, &types).unwrap();
    F33::typecheck(&tys.f33, &types).unwrap();
    F40::typecheck(&tys.f40, &types).unwrap();
    assert_eq!(
        msg(F33::typecheck(&tys.f40, &types)),
        format!(
            "expected `{}`, found Rust type `F33` without flag `f33`",
            types.display(&tys.f40)
        )
    );

    // A payload type that differs, inside a generic variant.
    assert_eq!(
        msg(Shape::<u32>::typecheck(&tys.shape, &types)),
        "expected `u64`, found Rust type `u32` (in case `square`)"
    );
    // Nested: an element of the list inside a record.
    #[derive(ComponentType)]
    #[component(record)]
    #[allow(dead_code, reason = "only its type is checked")]
    struct OtherPerson {
        first_name: String,
        age: u64,
    }
    #[derive(ComponentType)]
    #[component(record)]
    #[allow(dead_code, reason = "only its type is checked")]
    struct OtherTeam {
        name: String,
        members: Vec<OtherPerson>,
    }
    assert_eq!(
        msg(OtherTeam::typecheck(&tys.team, &types)),
        "expected `u32`, found Rust type `u64` (in field `age` of list element of field \
         `members`)"
    );
    // Order matters.
    #[derive(ComponentType)]
    #[component(record)]
    #[allow(dead_code, reason = "only its type is checked")]
    struct Swapped {
        age: u32,
        first_name: String,
    }
    assert_eq!(
        msg(Swapped::typecheck(&tys.person, &types)),
        "expected `record { first-name: string, age: u32 }`, found Rust type `Swapped` with \
         field `age` where `first-name` is expected"
    );
    // A missing field, an extra case, a missing flag.
    #[derive(ComponentType)]
    #[component(record)]
    #[allow(dead_code, reason = "only its type is checked")]
    struct Nameless {
        first_name: String,
    }
    assert_eq!(
        msg(Nameless::typecheck(&tys.person, &types)),
        "expected `record { first-name: string, age: u32 }`, found Rust type `Nameless` \
         without field `age`"
    );
    #[derive(ComponentType)]
    #[component(enum)]
    #[allow(dead_code, reason = "only its type is checked")]
    enum MoreStatus {
        Ok,
        NotFound,
        Gone,
        Teapot,
    }
    assert_eq!(
        msg(MoreStatus::typecheck(&tys.status, &types)),
        "expected `enum { ok, not-found, gone }`, found Rust type `MoreStatus` with extra case \
         `teapot`"
    );
    flags! {
        TwoPerms { const READ; const WRITE_ALL; }
    }
    assert_eq!(
        msg(TwoPerms::typecheck(&tys.perms, &types)),
        "expected `flags { read, write-all, exec }`, found Rust type `TwoPerms` without flag \
         `exec`"
    );
    // A case with a payload where the type has none, and the reverse.
    #[derive(ComponentType)]
    #[component(variant)]
    #[allow(dead_code, reason = "only its type is checked")]
    enum FullShape {
        Circle(f32),
        Square(u64),
        Label(String),
        Empty(()),
    }
    assert_eq!(
        msg(FullShape::typecheck(&tys.shape, &types)),
        "expected `variant { circle(f32), square(u64), label(string), empty }`, found Rust \
         type `FullShape` whose case `empty` has a payload"
    );
    #[derive(ComponentType)]
    #[component(variant)]
    #[allow(dead_code, reason = "only its type is checked")]
    enum BareShape {
        Circle,
        Square(u64),
        Label(String),
        Empty,
    }
    assert_eq!(
        msg(BareShape::typecheck(&tys.shape, &types)),
        "expected `variant { circle(f32), square(u64), label(string), empty }`, found Rust \
         type `BareShape` whose case `circle` has no payload"
    );
    // A different kind of type altogether.
    assert_eq!(
        msg(Status::typecheck(&tys.perms, &types)),
        "expected `flags { read, write-all, exec }`, found Rust type `Status`"
    );
    assert_eq!(
        msg(Perms::typecheck(&T::U32, &types)),
        "expected `u32`, found Rust type `Perms`"
    );
}
