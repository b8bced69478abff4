//! `wasi:random/random`, `wasi:random/insecure` and `wasi:random/insecure-seed` for WASI 0.2,
//! over the context's sources ([`RandomSource`]s and the seed).
//!
//! A request for more bytes than a 32-bit guest memory could hold, or than the host can
//! allocate, traps instead of aborting the host.

use crate::component::Linker;
use crate::error::{Error, Result};
use crate::prelude::*;
use crate::wasi::{RandomSource, WasiView};

/// `len` bytes from `source`.
fn bytes(source: &mut dyn RandomSource, len: u64, func: &str) -> Result<Vec<u8>> {
    let too_many = || Error::msg(format!("`{func}` of {len} bytes: too many to return"));
    let len = usize::try_from(len)
        .ok()
        .filter(|len| u32::try_from(*len).is_ok())
        .ok_or_else(too_many)?;
    let mut buf = Vec::new();
    buf.try_reserve_exact(len).map_err(|_| too_many())?;
    buf.resize(len, 0);
    source.fill_bytes(&mut buf);
    Ok(buf)
}

/// Defines the three `wasi:random` interfaces at 0.2.6.
pub(crate) fn add_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> Result<()> {
    let mut random = linker.instance("wasi:random/random@0.2.6")?;
    random.func_wrap("get-random-bytes", |mut store, (len,): (u64,)| {
        let source = &mut *store.data_mut().ctx().secure_random;
        Ok((bytes(source, len, "get-random-bytes")?,))
    })?;
    random.func_wrap("get-random-u64", |mut store, (): ()| {
        Ok((store.data_mut().ctx().secure_random.next_u64(),))
    })?;

    let mut insecure = linker.instance("wasi:random/insecure@0.2.6")?;
    insecure.func_wrap("get-insecure-random-bytes", |mut store, (len,): (u64,)| {
        let source = &mut *store.data_mut().ctx().insecure_random;
        Ok((bytes(source, len, "get-insecure-random-bytes")?,))
    })?;
    insecure.func_wrap("get-insecure-random-u64", |mut store, (): ()| {
        Ok((store.data_mut().ctx().insecure_random.next_u64(),))
    })?;

    let mut seed = linker.instance("wasi:random/insecure-seed@0.2.6")?;
    seed.func_wrap("insecure-seed", |mut store, (): ()| {
        let seed = store.data_mut().ctx().insecure_random_seed;
        // The low half first, as Wasmtime does.
        Ok(((seed as u64, (seed >> 64) as u64),))
    })
}
