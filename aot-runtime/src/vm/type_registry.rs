//! The process-wide function type registry: hash-conses [`FuncType`]s into `u32` ids, so that
//! `call_indirect` compares one integer (`VMFuncRef::type_id` against the caller's
//! `type_ids[t]`) across modules loaded independently.
//!
//! Ids are never freed: there are as many as distinct function types ever loaded, which stays
//! small. Id 0 is never handed out, so a zeroed `VMFuncRef` matches no type.

use crate::artifact::FuncType;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

static REGISTRY: LazyLock<Mutex<HashMap<FuncType, u32>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The id of `ty`, registering it on first sight.
pub(crate) fn register(ty: &FuncType) -> u32 {
    let mut map = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&id) = map.get(ty) {
        return id;
    }
    let id = map.len() as u32 + 1;
    map.insert(ty.clone(), id);
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::ValType;
    use crate::prelude::*;

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
