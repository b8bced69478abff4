//! Unit tests of the derive and `flags!` expansions: names, words and every compile error
//! message (the doc tests of `lib.rs` check that the same inputs fail to compile).

use super::flags::words_literal;
use super::*;

fn derive_error(src: TokenStream) -> String {
    let input: DeriveInput = syn::parse2(src).unwrap();
    match expand_derive(&input, Trait::ComponentType) {
        Ok(tokens) => panic!("expected an error, got {tokens}"),
        Err(e) => e.to_string(),
    }
}

fn flags_error(src: TokenStream) -> String {
    match syn::parse2::<FlagsInput>(src) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn kebab_case_names() {
    for (ident, name) in [
        ("first_name", "first-name"),
        ("NotFound", "not-found"),
        ("WRITE_ALL", "write-all"),
        ("READ", "read"),
        ("HTTPError", "http-error"),
        ("Ipv4Addr", "ipv4-addr"),
        ("r#type", "type"),
        ("a1b", "a1b"),
        ("x", "x"),
        ("_private_field", "private-field"),
        ("Utf8Error", "utf8-error"),
    ] {
        assert_eq!(kebab_case(ident), name, "{ident}");
    }
}

#[test]
fn derive_errors() {
    assert_eq!(
        derive_error(quote!(
            struct P {
                a: u32,
            }
        )),
        "missing `#[component(record)]` on `P`: say which component type this Rust type \
         stands for"
    );
    assert_eq!(
        derive_error(quote!(
            enum E {
                A,
            }
        )),
        "missing `#[component(variant)]` or `#[component(enum)]` on `E`: say which \
         component type this Rust enum stands for"
    );
    assert_eq!(
        derive_error(quote!(
            #[component(enum)]
            enum E {
                A,
                B(u32),
            }
        )),
        "case `B` of a `#[component(enum)]` carries data; enum cases have no payload (use \
         `#[component(variant)]` for cases with payloads)"
    );
    assert_eq!(
        derive_error(quote!(
            #[component(variant)]
            enum V {
                A(u32, u8),
            }
        )),
        "variant case `A` has 2 fields; a case carries at most one (wrap them in a tuple or \
         a record)"
    );
    assert_eq!(
        derive_error(quote!(
            #[component(variant)]
            enum V {
                A { x: u32 },
            }
        )),
        "variant case `A` has named fields; a case carries at most one unnamed field (make \
         its payload a record type)"
    );
    let record_msg = "`#[component(record)]` needs a struct with named fields";
    assert_eq!(
        derive_error(quote!(
            #[component(record)]
            struct T(u32);
        )),
        record_msg
    );
    assert_eq!(
        derive_error(quote!(
            #[component(record)]
            enum E {
                A,
            }
        )),
        record_msg
    );
    assert_eq!(
        derive_error(quote!(
            #[component(variant)]
            struct S {
                a: u32,
            }
        )),
        "`#[component(variant)]` needs a Rust enum"
    );
    assert_eq!(
        derive_error(quote!(
            #[component(record)]
            struct S {
                first_name: u32,
                #[component(name = "first-name")]
                other: u32,
            }
        )),
        "duplicate field name `first-name`: names must be unique"
    );
    assert_eq!(
        derive_error(quote!(
            #[component(enum)]
            enum E {
                NotFound,
                #[component(name = "not-found")]
                Missing,
            }
        )),
        "duplicate case name `not-found`: names must be unique"
    );
    assert_eq!(
        derive_error(quote!(
            #[component(record)]
            struct S {}
        )),
        "`S` has no fields; a component record needs at least one"
    );
    assert_eq!(
        derive_error(quote!(
            #[component(variant)]
            enum V {}
        )),
        "`V` has no cases; a component variant needs at least one"
    );
    assert_eq!(
        derive_error(quote!(
            #[component(record, enum)]
            struct S {
                a: u32,
            }
        )),
        "the kind of component type is given twice"
    );
    assert_eq!(
        derive_error(quote!(
            #[component(rekord)]
            struct S {
                a: u32,
            }
        )),
        "unknown `component` attribute: expected `record`, `variant` or `enum`"
    );
    assert_eq!(
        derive_error(quote!(
            #[component(record)]
            struct S {
                #[component(record)]
                a: u32,
            }
        )),
        "`#[component(record)]` goes on the type, not on a field or case"
    );
}

#[test]
fn flags_errors() {
    assert_eq!(
        flags_error(quote!(P {
            const READ;
            #[component(name = "read")]
            const ALSO_READ;
        })),
        "duplicate flag name `read`: names must be unique"
    );
    assert_eq!(
        flags_error(quote!(P {})),
        "`P` has no flags; a component flags type needs at least one"
    );
    assert_eq!(
        flags_error(quote!(P { READ; })),
        "expected a flag: `const NAME;`"
    );
}

#[test]
fn flag_words() {
    assert_eq!(words_literal(1, 3, None).to_string(), "[7u32]");
    assert_eq!(
        words_literal(2, 40, None).to_string(),
        "[4294967295u32 , 255u32]"
    );
    assert_eq!(words_literal(2, 40, Some(33)).to_string(), "[0u32 , 2u32]");
    assert_eq!(words_literal(1, 32, None).to_string(), "[4294967295u32]");
}

#[test]
fn expansions_name_the_runtime_helpers() {
    let input: DeriveInput = syn::parse2(quote!(
        #[component(record)]
        struct P<T> {
            #[component(name = "x-coord")]
            x: T,
            first_name: String,
        }
    ))
    .unwrap();
    let out = expand_derive(&input, Trait::ComponentType)
        .unwrap()
        .to_string();
    assert!(out.contains("\"x-coord\""), "{out}");
    assert!(out.contains("\"first-name\""), "{out}");
    assert!(out.contains("CanonicalAbiInfo :: record"), "{out}");
    assert!(
        out.contains("T : :: aot_runtime :: component :: ComponentType"),
        "{out}"
    );
}
