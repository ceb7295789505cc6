//! The C ABI of the twin digital-twin engine: `libtwin` (`include/twin.h`).
//!
//! Conventions (after rustls-ffi):
//! - Opaque handles (`TwinSchema`, `TwinTwin`) made by a `_new`-like function and released
//!   by the matching `_free`; `_free(NULL)` does nothing.
//! - Every function that can fail returns a `TwinResult`; `TWIN_RESULT_OK` is 0. Inputs
//!   come before outputs, every buffer is followed by its length, and outputs are written
//!   only on success. `twin_result_message` describes any code; `twin_last_error_message`
//!   gives the detailed message of this thread's last failure.
//! - Strings in are `(const char *, size_t len)` of UTF-8, no NUL terminator needed.
//!   Strings out are copied into caller buffers, NUL-terminated; `buf = NULL, cap = 0`
//!   asks for the length.
//! - Every body runs inside one panic boundary (`ffi_boundary!`): a panic never unwinds
//!   into C, it returns `TWIN_RESULT_PANIC`. Every pointer goes through one check (`arg!`)
//!   that returns `TWIN_RESULT_NULL_PARAMETER`.
//! - Threads: a schema may be read by several threads at once; a twin may be used by one
//!   thread at a time (and may move between threads); distinct handles are independent.
//! - Every analytics model (detectors, features, health index, remaining life, state
//!   estimation, Weibull) has its handle in [`analytics`], fitted on creation and saved as
//!   the crate's versioned JSON.
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

#[macro_use]
mod macros;

// Declaration order is the order of the header's sections (cbindgen follows it).
pub mod analytics;
pub mod connection;
pub mod fleet;
pub mod handle;
pub mod limits;
pub mod result;
pub mod schema;
pub mod sim;
pub mod simnet;
pub mod types;
pub mod whatif;

pub use connection::*;
pub use fleet::*;
pub use handle::*;
pub use limits::*;
pub use result::*;
pub use schema::*;
pub use sim::*;
pub use simnet::*;
pub use types::*;
pub use whatif::*;

#[cfg(test)]
mod tests;
