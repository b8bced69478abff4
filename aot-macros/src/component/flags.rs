//! The expansion of `flags!`: one `Copy` struct per flags type over `[u32; ceil(n / 32)]`, with
//! a constant per flag, the bit operators, `Debug` listing the set flags, and the three component
//! traits through the same helpers as the derives.

use super::{
    Member, check_unique, component_name, component_type_items, internal, lift_items, lower_items,
    parse_attrs,
};
use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, Token, Visibility};

/// The input of `flags!`: one or more flags types.
pub(crate) struct FlagsInput {
    types: Vec<FlagsType>,
}

/// `#[attrs] vis Name { #[attrs] const FLAG; .. }`.
struct FlagsType {
    attrs: Vec<Attribute>,
    vis: Visibility,
    ident: Ident,
    flags: Vec<Flag>,
}

/// A flag: its attributes other than `component` (doc comments) and its names (no type).
struct Flag {
    attrs: Vec<Attribute>,
    member: Member,
}

impl Parse for FlagsInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut types = Vec::new();
        while !input.is_empty() {
            types.push(input.parse()?);
        }
        if types.is_empty() {
            return Err(input.error("expected a flags type: `Name { const FLAG; .. }`"));
        }
        Ok(Self { types })
    }
}

impl Parse for FlagsType {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        if attrs.iter().any(|a| a.path().is_ident("component")) {
            return Err(input.error("`#[component(...)]` goes on the flags, not on the type"));
        }
        let vis: Visibility = input.parse()?;
        let ident: Ident = input.parse()?;
        let body;
        syn::braced!(body in input);
        let mut flags = Vec::new();
        while !body.is_empty() {
            let flag_attrs = body.call(Attribute::parse_outer)?;
            let component = parse_attrs(&flag_attrs, false)?;
            body.parse::<Token![const]>()
                .map_err(|e| syn::Error::new(e.span(), "expected a flag: `const NAME;`"))?;
            let flag_ident: Ident = body.parse()?;
            body.parse::<Token![;]>()?;
            let (name, name_span) = component_name(&component, &flag_ident);
            flags.push(Flag {
                attrs: flag_attrs
                    .into_iter()
                    .filter(|a| !a.path().is_ident("component"))
                    .collect(),
                member: Member {
                    ident: flag_ident,
                    name,
                    name_span,
                    ty: None,
                },
            });
        }
        if flags.is_empty() {
            return Err(syn::Error::new(
                ident.span(),
                format!("`{ident}` has no flags; a component flags type needs at least one"),
            ));
        }
        let members: Vec<Member> = flags.iter().map(|f| f.member.clone()).collect();
        check_unique("flag", &members)?;
        Ok(Self {
            attrs,
            vis,
            ident,
            flags,
        })
    }
}

/// Expands `flags!`.
pub(crate) fn expand_flags(input: &FlagsInput) -> TokenStream {
    input.types.iter().map(expand_flags_type).collect()
}

/// `[u32; words]` with only bit `bit` set, or every bit below `n` set (`bit: None`).
pub(super) fn words_literal(words: usize, n: usize, bit: Option<usize>) -> TokenStream {
    let values = (0..words).map(|w| {
        let v: u32 = match bit {
            Some(b) if b / 32 == w => 1 << (b % 32),
            Some(_) => 0,
            None if n >= (w + 1) * 32 => u32::MAX,
            None => (1u32 << (n - w * 32)) - 1,
        };
        quote!(#v)
    });
    quote!([#(#values),*])
}

fn expand_flags_type(flags: &FlagsType) -> TokenStream {
    let i = internal();
    let FlagsType {
        attrs,
        vis,
        ident,
        flags,
    } = flags;
    let n = flags.len();
    let words = n.div_ceil(32);
    let all = words_literal(words, n, None);
    let consts = flags.iter().enumerate().map(|(bit, flag)| {
        let Flag { attrs, member } = flag;
        let Member { ident, name, .. } = member;
        let bits = words_literal(words, n, Some(bit));
        let doc = format!("The flag `{name}`.");
        let doc = if attrs.iter().any(|a| a.path().is_ident("doc")) {
            quote!()
        } else {
            quote!(#[doc = #doc])
        };
        quote! {
            #doc
            #(#attrs)*
            pub const #ident: Self = Self { bits: #bits };
        }
    });
    let names: Vec<&String> = flags.iter().map(|f| &f.member.name).collect();
    let idents: Vec<String> = flags.iter().map(|f| f.member.ident.to_string()).collect();
    let type_name = ident.to_string();
    let doc = if attrs.iter().any(|a| a.path().is_ident("doc")) {
        quote!()
    } else {
        let doc = format!("The component flags {{ {} }}.", idents_or_names(&names));
        quote!(#[doc = #doc])
    };
    let binops = [
        (
            quote!(BitOr),
            quote!(bitor),
            quote!(BitOrAssign),
            quote!(bitor_assign),
            quote!(|=),
        ),
        (
            quote!(BitAnd),
            quote!(bitand),
            quote!(BitAndAssign),
            quote!(bitand_assign),
            quote!(&=),
        ),
        (
            quote!(BitXor),
            quote!(bitxor),
            quote!(BitXorAssign),
            quote!(bitxor_assign),
            quote!(^=),
        ),
    ]
    .into_iter()
    .map(|(tr, method, assign_tr, assign_method, op)| {
        quote! {
            impl ::core::ops::#tr for #ident {
                type Output = Self;

                fn #method(self, rhs: Self) -> Self {
                    let mut bits = self.bits;
                    for (a, b) in bits.iter_mut().zip(rhs.bits) {
                        *a #op b;
                    }
                    Self { bits }
                }
            }

            impl ::core::ops::#assign_tr for #ident {
                fn #assign_method(&mut self, rhs: Self) {
                    *self = ::core::ops::#tr::#method(*self, rhs);
                }
            }
        }
    });
    let component_type = component_type_items(
        quote!(#i::CanonicalAbiInfo::flags(#n)),
        quote!(#i::typecheck_flags::<Self>(ty, types, &[#(#names),*])),
    );
    let lower = lower_items(
        quote!(#i::lower_flags_flat(cx, ty, #n, &self.bits, dst)),
        quote!(#i::lower_flags_to_memory(cx, ty, #n, &self.bits, offset)),
    );
    let lift = lift_items(
        quote! {
            let bits = #i::lift_flags_flat::<#words>(cx, ty, #n, src)?;
            ::core::result::Result::Ok(Self { bits })
        },
        quote! {
            let bits = #i::lift_flags_from_memory::<#words>(cx, ty, #n, bytes)?;
            ::core::result::Result::Ok(Self { bits })
        },
    );
    quote! {
        #doc
        #(#attrs)*
        #[derive(Copy, Clone, PartialEq, Eq, Hash)]
        #vis struct #ident {
            bits: [u32; #words],
        }

        impl #ident {
            #(#consts)*

            /// No flag set.
            pub const fn empty() -> Self {
                Self { bits: [0; #words] }
            }

            /// Every flag set.
            pub const fn all() -> Self {
                Self { bits: #all }
            }

            /// Whether no flag is set.
            pub fn is_empty(&self) -> bool {
                self.bits.iter().all(|w| *w == 0)
            }

            /// Whether every flag set in `other` is set in `self`.
            pub fn contains(&self, other: Self) -> bool {
                #i::flags_contains(&self.bits, &other.bits)
            }
        }

        impl ::core::default::Default for #ident {
            fn default() -> Self {
                Self::empty()
            }
        }

        #(#binops)*

        impl ::core::ops::Not for #ident {
            type Output = Self;

            fn not(self) -> Self {
                let mut bits = self.bits;
                for (a, b) in bits.iter_mut().zip(#all) {
                    *a = !*a;
                    *a &= b;
                }
                Self { bits }
            }
        }

        impl ::core::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #i::fmt_flags(f, #type_name, &[#(#idents),*], &self.bits)
            }
        }

        impl #i::ComponentType for #ident {
            #component_type
        }

        impl #i::Lower for #ident {
            #lower
        }

        impl #i::Lift for #ident {
            #lift
        }
    }
}

/// `a, b, c` (at most 8 names, then `..`) for a generated doc line.
fn idents_or_names(names: &[&String]) -> String {
    let mut shown: Vec<&str> = names.iter().take(8).map(|s| s.as_str()).collect();
    if names.len() > 8 {
        shown.push("..");
    }
    shown.join(", ")
}
