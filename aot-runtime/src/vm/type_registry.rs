//! The process-wide function type registry: hash-conses [`FuncType`]s into `u32` ids, so that
//! `call_indirect` compares one integer (`VMFuncRef::type_id` against the caller's
//! `type_ids[t]`) across modules loaded independently.
//!
//! Ids are never freed: there are as many as distinct function types ever loaded, which stays
//! small. Id 0 is never handed out, so a zeroed `VMFuncRef` matches no type.

use crate::artifact::FuncType;
use crate::prelude::*;
use core::cmp::Ordering;
use std::sync::Mutex;

/// Every type registered so far with its id, sorted by [`order`] (a sorted `Vec` rather than a
/// hash map: lookups are a binary search, and there is no per-map hashing code to carry).
static REGISTRY: Mutex<Vec<(FuncType, u32)>> = Mutex::new(Vec::new());

/// A total order on function types: by arity, then by the value types.
fn order(a: &FuncType, b: &FuncType) -> Ordering {
    fn codes(t: &FuncType) -> impl Iterator<Item = u8> + '_ {
        t.params.iter().chain(&t.results[..]).map(|&v| v as u8)
    }
    let arity = |t: &FuncType| (t.params.len(), t.results.len());
    arity(a).cmp(&arity(b)).then_with(|| codes(a).cmp(codes(b)))
}

/// The id of `ty`, registering it on first sight.
pub(crate) fn register(ty: &FuncType) -> u32 {
    let mut types = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    match types.binary_search_by(|(t, _)| order(t, ty)) {
        Ok(i) => types[i].1,
        Err(i) => {
            let id = types.len() as u32 + 1;
            types.insert(i, (ty.clone(), id));
            id
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::ValType;

    #[test]
    fn equal_types_share_an_id() {
        let a = register(&FuncType::new([ValType::I32, ValType::I64], [ValType::F32]));
        let b = register(&FuncType::new([ValType::I32, ValType::I64], [ValType::F32]));
        let c = register(&FuncType::new([ValType::I64, ValType::I32], [ValType::F32]));
        let d = register(&FuncType::new([], []));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert!(a != 0 && c != 0 && d != 0);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| register(&FuncType::new([ValType::V128], [ValType::FuncRef])))
            })
            .collect();
        let ids: Vec<u32> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] == w[1]));
    }
}
