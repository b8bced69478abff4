//! The expansions of `#[derive(ComponentType, Lift, Lower)]` and `flags!`: Rust types whose
//! canonical ABI and type check follow from their definition.
//!
//! A struct with `#[component(record)]` is a record; an enum with `#[component(variant)]` a
//! variant (each case has zero or one unnamed field) and with `#[component(enum)]` an enum (no
//! case has data). `#[component(name = "...")]` on a field or case renames it; the default name
//! is the Rust identifier in kebab-case (`first_name` -> `first-name`, `NotFound` -> `not-found`).
//! `flags! { Perms { const READ; #[component(name = "w")] const WRITE; } }` defines a flags type.
//!
//! Expansions only list what the Rust definition knows: names, field and payload types, and an
//! `ABI` constant computed by `CanonicalAbiInfo::{record, variant, enumeration, flags}` from the
//! fields' own `ABI` constants. Everything else (type checks, discriminants, flat variant
//! payloads, flag words) is done by the helpers in `aot_runtime::component::__internal`, the same
//! code the runtime uses for its own values. Each type parameter gets a bound on the trait being
//! derived. Every misuse is a compile error spanned on the offending item, with the same message
//! whichever of the three derives reports it (so rustc shows it once).

mod flags;

pub(crate) use flags::{FlagsInput, expand_flags};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use std::collections::HashSet;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, GenericParam, Generics, Ident, LitStr, Type};

/// The trait a derive implements.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Trait {
    /// `ComponentType`: `ABI` and `typecheck`.
    ComponentType,
    /// `Lift`: reading from a guest.
    Lift,
    /// `Lower`: writing into a guest.
    Lower,
}

impl Trait {
    fn path(self) -> TokenStream {
        match self {
            Trait::ComponentType => quote!(::aot_runtime::component::ComponentType),
            Trait::Lift => quote!(::aot_runtime::component::Lift),
            Trait::Lower => quote!(::aot_runtime::component::Lower),
        }
    }
}

/// The component type a Rust type stands for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Kind {
    Record,
    Variant,
    Enum,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Record => "record",
            Kind::Variant => "variant",
            Kind::Enum => "enum",
        }
    }

    fn attr(self) -> &'static str {
        match self {
            Kind::Record => "#[component(record)]",
            Kind::Variant => "#[component(variant)]",
            Kind::Enum => "#[component(enum)]",
        }
    }
}

/// What `#[component(...)]` attributes on one item say.
#[derive(Default)]
struct ComponentAttrs {
    kind: Option<(Kind, Span)>,
    name: Option<LitStr>,
}

/// Reads the `#[component(...)]` attributes of an item. `kind` is allowed on the type itself,
/// `name` on fields, cases and flags.
fn parse_attrs(attrs: &[Attribute], on_type: bool) -> syn::Result<ComponentAttrs> {
    let mut out = ComponentAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("component")) {
        attr.parse_nested_meta(|meta| {
            let kind = if meta.path.is_ident("record") {
                Some(Kind::Record)
            } else if meta.path.is_ident("variant") {
                Some(Kind::Variant)
            } else if meta.path.is_ident("enum") {
                Some(Kind::Enum)
            } else {
                None
            };
            if let Some(kind) = kind {
                if !on_type {
                    return Err(meta.error(format!(
                        "`{}` goes on the type, not on a field or case",
                        kind.attr()
                    )));
                }
                if out.kind.is_some() {
                    return Err(meta.error("the kind of component type is given twice"));
                }
                out.kind = Some((kind, meta.path.span()));
                Ok(())
            } else if meta.path.is_ident("name") {
                if on_type {
                    return Err(meta.error(
                        "`#[component(name = \"...\")]` goes on fields, cases and flags, not on \
                         the type",
                    ));
                }
                if out.name.is_some() {
                    return Err(meta.error("`name` is given twice"));
                }
                let lit: LitStr = meta.value()?.parse()?;
                if lit.value().is_empty() {
                    return Err(syn::Error::new(
                        lit.span(),
                        "a component name cannot be empty",
                    ));
                }
                out.name = Some(lit);
                Ok(())
            } else if on_type {
                Err(meta
                    .error("unknown `component` attribute: expected `record`, `variant` or `enum`"))
            } else {
                Err(meta.error("unknown `component` attribute: expected `name = \"...\"`"))
            }
        })?;
    }
    Ok(out)
}

/// The component name of a field, case or flag: its rename, or its identifier in kebab-case.
fn component_name(attrs: &ComponentAttrs, ident: &Ident) -> (String, Span) {
    match &attrs.name {
        Some(lit) => (lit.value(), lit.span()),
        None => (kebab_case(&ident.to_string()), ident.span()),
    }
}

/// `first_name` -> `first-name`, `NotFound` -> `not-found`, `WRITE_ALL` -> `write-all`,
/// `HTTPError` -> `http-error`, `Ipv4Addr` -> `ipv4-addr`, `r#type` -> `type`.
pub(crate) fn kebab_case(ident: &str) -> String {
    let ident = ident.strip_prefix("r#").unwrap_or(ident);
    let mut words: Vec<String> = Vec::new();
    for segment in ident.split('_').filter(|s| !s.is_empty()) {
        let chars: Vec<char> = segment.chars().collect();
        let mut word = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = c.is_uppercase()
                && prev.is_some_and(|p| {
                    p.is_lowercase()
                        || p.is_ascii_digit()
                        || (p.is_uppercase() && next.is_some_and(|n| n.is_lowercase()))
                });
            if boundary && !word.is_empty() {
                words.push(core::mem::take(&mut word));
            }
            word.extend(c.to_lowercase());
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words.join("-")
}

/// Refuses a second use of one component name (`what`: `field`, `case`, `flag`), spanned on
/// the second use.
fn check_unique(what: &str, members: &[Member]) -> syn::Result<()> {
    let mut seen = HashSet::new();
    for member in members {
        if !seen.insert(member.name.as_str()) {
            return Err(syn::Error::new(
                member.name_span,
                format!(
                    "duplicate {what} name `{}`: names must be unique",
                    member.name
                ),
            ));
        }
    }
    Ok(())
}

/// One field of a record, case of a variant or enum, or flag.
#[derive(Clone)]
struct Member {
    /// The Rust identifier (field name or case name).
    ident: Ident,
    /// The component name.
    name: String,
    /// Where the name comes from (the rename's literal, or the identifier).
    name_span: Span,
    /// The field's type, or the case's payload type (none for flags).
    ty: Option<Type>,
}

/// A derive input, checked.
struct Input<'a> {
    ident: &'a Ident,
    generics: &'a Generics,
    kind: Kind,
    members: Vec<Member>,
}

fn parse_input(input: &DeriveInput) -> syn::Result<Input<'_>> {
    let attrs = parse_attrs(&input.attrs, true)?;
    let ident = &input.ident;
    let kind = match (&attrs.kind, &input.data) {
        (Some((kind, _)), _) => *kind,
        (None, Data::Enum(_)) => {
            return Err(syn::Error::new(
                ident.span(),
                format!(
                    "missing `#[component(variant)]` or `#[component(enum)]` on `{ident}`: say \
                     which component type this Rust enum stands for"
                ),
            ));
        }
        (None, _) => {
            return Err(syn::Error::new(
                ident.span(),
                format!(
                    "missing `#[component(record)]` on `{ident}`: say which component type \
                     this Rust type stands for"
                ),
            ));
        }
    };
    let kind_span = attrs.kind.map_or(ident.span(), |(_, span)| span);
    let members = match (kind, &input.data) {
        (Kind::Record, Data::Struct(data)) => record_fields(ident, &data.fields)?,
        (Kind::Record, _) => {
            return Err(syn::Error::new(
                kind_span,
                "`#[component(record)]` needs a struct with named fields",
            ));
        }
        (Kind::Variant | Kind::Enum, Data::Enum(data)) => {
            if data.variants.is_empty() {
                return Err(syn::Error::new(
                    ident.span(),
                    format!(
                        "`{ident}` has no cases; a component {} needs at least one",
                        kind.noun()
                    ),
                ));
            }
            let mut members = Vec::new();
            for case in &data.variants {
                let case_attrs = parse_attrs(&case.attrs, false)?;
                let (name, name_span) = component_name(&case_attrs, &case.ident);
                let ty = case_payload(kind, &case.ident, &case.fields)?;
                members.push(Member {
                    ident: case.ident.clone(),
                    name,
                    name_span,
                    ty,
                });
            }
            check_unique("case", &members)?;
            members
        }
        (Kind::Variant | Kind::Enum, _) => {
            return Err(syn::Error::new(
                kind_span,
                format!("`{}` needs a Rust enum", kind.attr()),
            ));
        }
    };
    Ok(Input {
        ident,
        generics: &input.generics,
        kind,
        members,
    })
}

fn record_fields(ident: &Ident, fields: &Fields) -> syn::Result<Vec<Member>> {
    let Fields::Named(named) = fields else {
        return Err(syn::Error::new(
            ident.span(),
            "`#[component(record)]` needs a struct with named fields",
        ));
    };
    if named.named.is_empty() {
        return Err(syn::Error::new(
            ident.span(),
            format!("`{ident}` has no fields; a component record needs at least one"),
        ));
    }
    let mut members = Vec::new();
    for field in &named.named {
        let attrs = parse_attrs(&field.attrs, false)?;
        let Some(field_ident) = &field.ident else {
            return Err(syn::Error::new(field.span(), "a record field needs a name"));
        };
        let (name, name_span) = component_name(&attrs, field_ident);
        members.push(Member {
            ident: field_ident.clone(),
            name,
            name_span,
            ty: Some(field.ty.clone()),
        });
    }
    check_unique("field", &members)?;
    Ok(members)
}

/// The payload type of a case: none for a unit case, the one unnamed field otherwise.
fn case_payload(kind: Kind, case: &Ident, fields: &Fields) -> syn::Result<Option<Type>> {
    match (kind, fields) {
        (_, Fields::Unit) => Ok(None),
        (Kind::Enum, _) => Err(syn::Error::new(
            fields.span(),
            format!(
                "case `{case}` of a `#[component(enum)]` carries data; enum cases have no \
                 payload (use `#[component(variant)]` for cases with payloads)"
            ),
        )),
        (_, Fields::Named(_)) => Err(syn::Error::new(
            fields.span(),
            format!(
                "variant case `{case}` has named fields; a case carries at most one unnamed \
                 field (make its payload a record type)"
            ),
        )),
        (_, Fields::Unnamed(unnamed)) => match unnamed.unnamed.len() {
            1 => Ok(unnamed.unnamed.first().map(|f| f.ty.clone())),
            n => Err(syn::Error::new(
                fields.span(),
                format!(
                    "variant case `{case}` has {n} fields; a case carries at most one (wrap \
                     them in a tuple or a record)"
                ),
            )),
        },
    }
}

/// Expands one of the three derives.
pub(crate) fn expand_derive(input: &DeriveInput, tr: Trait) -> syn::Result<TokenStream> {
    let parsed = parse_input(input)?;
    let body = match (tr, parsed.kind) {
        (Trait::ComponentType, Kind::Record) => record_component_type(&parsed),
        (Trait::ComponentType, Kind::Variant) => variant_component_type(&parsed),
        (Trait::ComponentType, Kind::Enum) => enum_component_type(&parsed),
        (Trait::Lower, Kind::Record) => record_lower(&parsed),
        (Trait::Lower, Kind::Variant) => variant_lower(&parsed),
        (Trait::Lower, Kind::Enum) => enum_lower(&parsed),
        (Trait::Lift, Kind::Record) => record_lift(&parsed),
        (Trait::Lift, Kind::Variant) => variant_lift(&parsed),
        (Trait::Lift, Kind::Enum) => enum_lift(&parsed),
    };
    let path = tr.path();
    let ident = parsed.ident;
    let generics = with_bounds(parsed.generics, &path);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #path for #ident #ty_generics #where_clause {
            #body
        }
    })
}

/// `generics` with `T: Trait` for each type parameter.
fn with_bounds(generics: &Generics, path: &TokenStream) -> Generics {
    let mut generics = generics.clone();
    let params: Vec<Ident> = generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) => Some(t.ident.clone()),
            _ => None,
        })
        .collect();
    let where_clause = generics.make_where_clause();
    for param in params {
        where_clause
            .predicates
            .push(syn::parse_quote!(#param: #path));
    }
    generics
}

/// `::aot_runtime::component::__internal`.
fn internal() -> TokenStream {
    quote!(::aot_runtime::component::__internal)
}

/// The `typecheck` signature and `ABI` constant of a `ComponentType` impl.
fn component_type_items(abi: TokenStream, typecheck: TokenStream) -> TokenStream {
    let i = internal();
    quote! {
        const ABI: #i::CanonicalAbiInfo = #abi;

        fn typecheck(
            ty: &#i::InterfaceType,
            types: &#i::ComponentTypes,
        ) -> ::core::result::Result<(), #i::TypeMismatch> {
            #typecheck
        }
    }
}

/// The signatures of a `Lower` impl around the two bodies.
fn lower_items(flat: TokenStream, memory: TokenStream) -> TokenStream {
    let i = internal();
    quote! {
        fn lower_flat(
            &self,
            cx: &mut #i::LowerContext<'_>,
            ty: #i::InterfaceType,
            dst: &mut #i::FlatSink<'_>,
        ) -> #i::Result<()> {
            #flat
        }

        fn lower_to_memory(
            &self,
            cx: &mut #i::LowerContext<'_>,
            ty: #i::InterfaceType,
            offset: usize,
        ) -> #i::Result<()> {
            #memory
        }
    }
}

/// The signatures of a `Lift` impl around the two bodies.
fn lift_items(flat: TokenStream, memory: TokenStream) -> TokenStream {
    let i = internal();
    quote! {
        fn lift_flat(
            cx: &mut #i::LiftContext<'_>,
            ty: #i::InterfaceType,
            src: &mut #i::FlatSource<'_>,
        ) -> #i::Result<Self> {
            #flat
        }

        fn lift_from_memory(
            cx: &mut #i::LiftContext<'_>,
            ty: #i::InterfaceType,
            bytes: &[u8],
        ) -> #i::Result<Self> {
            #memory
        }
    }
}

/// `(name, <T as ComponentType>::typecheck as Typecheck)`.
fn typecheck_fn(ty: &Type) -> TokenStream {
    let i = internal();
    quote_spanned!(ty.span()=> <#ty as #i::ComponentType>::typecheck as #i::Typecheck)
}

/// `<T as ComponentType>::ABI`.
fn abi_of(ty: &Type) -> TokenStream {
    let i = internal();
    quote_spanned!(ty.span()=> <#ty as #i::ComponentType>::ABI)
}

fn field_types<'a>(input: &'a Input<'_>) -> Vec<&'a Type> {
    input.members.iter().filter_map(|m| m.ty.as_ref()).collect()
}

fn type_vars(n: usize) -> Vec<Ident> {
    (0..n).map(|k| format_ident!("__ty{}", k)).collect()
}

fn record_component_type(input: &Input<'_>) -> TokenStream {
    let i = internal();
    let tys = field_types(input);
    let abis = tys.iter().map(|t| abi_of(t));
    let names = input.members.iter().map(|m| &m.name);
    let checks = tys.iter().map(|t| typecheck_fn(t));
    component_type_items(
        quote!(#i::CanonicalAbiInfo::record(&[#(#abis),*])),
        quote!(#i::typecheck_record::<Self>(ty, types, &[#((#names, #checks)),*])),
    )
}

fn record_lower(input: &Input<'_>) -> TokenStream {
    let i = internal();
    let n = input.members.len();
    let fields: Vec<&Ident> = input.members.iter().map(|m| &m.ident).collect();
    let tys = field_types(input);
    let abis: Vec<TokenStream> = tys.iter().map(|t| abi_of(t)).collect();
    let vars = type_vars(n);
    let flat = quote! {
        let [#(#vars),*] = #i::record_fields_lower::<#n>(cx, ty)?;
        #( #i::Lower::lower_flat(&self.#fields, cx, #vars, dst)?; )*
        ::core::result::Result::Ok(())
    };
    let memory = quote! {
        let [#(#vars),*] = #i::record_fields_lower::<#n>(cx, ty)?;
        let mut next = 0u32;
        #(
            let at = #i::field_offset(offset, #abis, &mut next);
            #i::Lower::lower_to_memory(&self.#fields, cx, #vars, at)?;
        )*
        ::core::result::Result::Ok(())
    };
    lower_items(flat, memory)
}

fn record_lift(input: &Input<'_>) -> TokenStream {
    let i = internal();
    let n = input.members.len();
    let fields: Vec<&Ident> = input.members.iter().map(|m| &m.ident).collect();
    let tys = field_types(input);
    let abis: Vec<TokenStream> = tys.iter().map(|t| abi_of(t)).collect();
    let vars = type_vars(n);
    let flat = quote! {
        let [#(#vars),*] = #i::record_fields_lift::<#n>(cx, ty)?;
        ::core::result::Result::Ok(Self {
            #( #fields: <#tys as #i::Lift>::lift_flat(cx, #vars, src)?, )*
        })
    };
    let memory = quote! {
        let [#(#vars),*] = #i::record_fields_lift::<#n>(cx, ty)?;
        let mut next = 0u32;
        ::core::result::Result::Ok(Self {
            #(
                #fields: <#tys as #i::Lift>::lift_from_memory(
                    cx,
                    #vars,
                    #i::field_bytes(bytes, #abis, &mut next)?,
                )?,
            )*
        })
    };
    lift_items(flat, memory)
}

fn variant_component_type(input: &Input<'_>) -> TokenStream {
    let i = internal();
    let abis = input.members.iter().map(|m| match &m.ty {
        Some(ty) => {
            let abi = abi_of(ty);
            quote!(::core::option::Option::Some(#abi))
        }
        None => quote!(::core::option::Option::None),
    });
    let cases = input.members.iter().map(|m| {
        let name = &m.name;
        match &m.ty {
            Some(ty) => {
                let check = typecheck_fn(ty);
                quote!((#name, ::core::option::Option::Some(#check)))
            }
            None => quote!((#name, ::core::option::Option::None)),
        }
    });
    component_type_items(
        quote!(#i::CanonicalAbiInfo::variant(&[#(#abis),*])),
        quote!(#i::typecheck_variant::<Self>(ty, types, &[#(#cases),*])),
    )
}

fn variant_lower(input: &Input<'_>) -> TokenStream {
    let i = internal();
    let n = input.members.len();
    let arms = |helper: TokenStream, last: TokenStream| {
        let arms = input.members.iter().enumerate().map(|(case, m)| {
            let case = case as u32;
            let ident = &m.ident;
            if m.ty.is_some() {
                quote! {
                    Self::#ident(payload) => #i::#helper(
                        cx, ty, #n, #case, ::core::option::Option::Some(payload), #last,
                    ),
                }
            } else {
                quote! {
                    Self::#ident => #i::#helper::<()>(
                        cx, ty, #n, #case, ::core::option::Option::None, #last,
                    ),
                }
            }
        });
        quote!(match self { #(#arms)* })
    };
    lower_items(
        arms(quote!(lower_variant_flat), quote!(dst)),
        arms(quote!(lower_variant_to_memory), quote!(offset)),
    )
}

fn variant_lift(input: &Input<'_>) -> TokenStream {
    let i = internal();
    let n = input.members.len();
    let arms = |payload_helper: TokenStream| {
        let arms = input.members.iter().enumerate().map(|(case, m)| {
            let ident = &m.ident;
            match &m.ty {
                Some(ty) => quote! {
                    #case => ::core::result::Result::Ok(Self::#ident(
                        #i::#payload_helper::<#ty>(__cx, __payload, __src)?,
                    )),
                },
                None => quote! {
                    #case => #i::no_payload(__payload).map(|()| Self::#ident),
                },
            }
        });
        quote! {
            match __case {
                #(#arms)*
                _ => ::core::result::Result::Err(#i::bad_case(__case)),
            }
        }
    };
    let flat = arms(quote!(lift_payload_flat));
    let memory = arms(quote!(lift_payload_from_memory));
    lift_items(
        quote! {
            #i::lift_variant_flat(cx, ty, #n, src, |__cx, __case, __payload, __src| #flat)
        },
        quote! {
            #i::lift_variant_from_memory(
                cx, ty, #n, bytes, |__cx, __case, __payload, __src| #memory,
            )
        },
    )
}

fn enum_component_type(input: &Input<'_>) -> TokenStream {
    let i = internal();
    let n = input.members.len();
    let names = input.members.iter().map(|m| &m.name);
    component_type_items(
        quote!(#i::CanonicalAbiInfo::enumeration(#n)),
        quote!(#i::typecheck_enum::<Self>(ty, types, &[#(#names),*])),
    )
}

fn enum_lower(input: &Input<'_>) -> TokenStream {
    let i = internal();
    let n = input.members.len();
    let arms = input.members.iter().enumerate().map(|(case, m)| {
        let case = case as u32;
        let ident = &m.ident;
        quote!(Self::#ident => #case,)
    });
    let case = quote!(let case: u32 = match self { #(#arms)* };);
    lower_items(
        quote! {
            #case
            #i::lower_enum_flat(cx, ty, #n, case, dst)
        },
        quote! {
            #case
            #i::lower_enum_to_memory(cx, ty, #n, case, offset)
        },
    )
}

fn enum_lift(input: &Input<'_>) -> TokenStream {
    let i = internal();
    let n = input.members.len();
    let arms: Vec<TokenStream> = input
        .members
        .iter()
        .enumerate()
        .map(|(case, m)| {
            let ident = &m.ident;
            quote!(#case => ::core::result::Result::Ok(Self::#ident),)
        })
        .collect();
    let to_value = quote! {
        match case {
            #(#arms)*
            _ => ::core::result::Result::Err(#i::bad_case(case)),
        }
    };
    lift_items(
        quote! {
            let case = #i::lift_enum_flat(cx, ty, #n, src)?;
            #to_value
        },
        quote! {
            let case = #i::lift_enum_from_memory(cx, ty, #n, bytes)?;
            #to_value
        },
    )
}

#[cfg(test)]
mod tests;
