//! The `alloc`/`std` names every runtime module uses; the crate is `no_std` at its root so the
//! usual prelude is not in scope.

pub(crate) use std::boxed::Box;
pub(crate) use std::format;
pub(crate) use std::string::{String, ToString};
pub(crate) use std::sync::Arc;
pub(crate) use std::vec;
pub(crate) use std::vec::Vec;
