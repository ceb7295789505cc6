//! The two macros every exported function is built from: [`ffi_boundary!`] (the panic
//! boundary) and [`arg!`] (the pointer checks).

/// Runs an exported function's body inside the panic boundary.
///
/// `ffi_boundary!("twin_x_y", { ... })` evaluates the block, a closure body that returns
/// `Result<(), TwinResult>` (so `?` and `return Err(..)` work), inside `catch_unwind`, and
/// gives `TWIN_RESULT_OK`, the error code, or `TWIN_RESULT_PANIC` if it panicked. On an
/// error the detailed message the body gave to `fail` becomes this thread's last error,
/// prefixed with the function's name.
///
/// - The `quiet` form records nothing: it is for the function that reads the last error,
///   so that its own failures do not overwrite it.
/// - The `value` form is for functions that cannot fail and return a value: the block
///   gives the value, and `$on_panic` is returned if it panics.
macro_rules! ffi_boundary {
    ($name:literal, $body:block) => {
        $crate::result::run_boundary($name, true, || -> Result<(), $crate::result::TwinResult> {
            $body
        })
    };
    (quiet $name:literal, $body:block) => {
        $crate::result::run_boundary(
            $name,
            false,
            || -> Result<(), $crate::result::TwinResult> { $body },
        )
    };
    (value $name:literal, $on_panic:expr, $body:block) => {
        $crate::result::run_boundary_value($name, $on_panic, || $body)
    };
}

/// Checks one pointer argument and turns it into what the body needs, or returns
/// `TWIN_RESULT_NULL_PARAMETER` (with the parameter's name in the message).
///
/// - `arg!(ref p)`: `&T` from a `*const T` that must not be NULL.
/// - `arg!(mut p)`: `&mut T` from a `*mut T` that must not be NULL.
/// - `arg!(out p)`: the `*mut T` itself, checked non-NULL and aligned, to write a result
///   into with `write` once everything has succeeded.
/// - `arg!(slice p, len)`: `&[T]` of `len` elements; `p` may be NULL only if `len == 0`.
/// - `arg!(out_slice p, cap)`: the `*mut T` of an output buffer of `cap` elements; `p` may be
///   NULL only if `cap == 0`.
/// - `arg!(str p, len)`: `&str` from `len` bytes of UTF-8 (no NUL terminator needed);
///   invalid UTF-8 returns `TWIN_RESULT_INVALID_UTF8`.
///
/// Every form also refuses a misaligned pointer and a length too large for memory
/// (`TWIN_RESULT_INVALID_INPUT`).
macro_rules! arg {
    (ref $p:ident) => {{
        let p = $crate::macros::check_ptr($p, stringify!($p))?;
        // SAFETY: `p` is non-NULL and aligned; the caller promises it points to a live
        // object of this type that nothing else mutates during the call.
        unsafe { &*p }
    }};
    (mut $p:ident) => {{
        let p = $crate::macros::check_ptr_mut($p, stringify!($p))?;
        // SAFETY: `p` is non-NULL and aligned; the caller promises it points to a live
        // object of this type that no other thread uses during the call.
        unsafe { &mut *p }
    }};
    (out $p:ident) => {{
        $crate::macros::check_ptr_mut($p, stringify!($p))?
    }};
    (slice $p:ident, $len:ident) => {{
        let (p, len) = $crate::macros::check_buf($p, $len, stringify!($p))?;
        if len == 0 {
            &[]
        } else {
            // SAFETY: `p` is non-NULL, aligned, and `len` elements fit in memory; the caller
            // promises `len` readable elements at `p`.
            unsafe { ::std::slice::from_raw_parts(p, len) }
        }
    }};
    (out_slice $p:ident, $cap:ident) => {{
        $crate::macros::check_buf_mut($p, $cap, stringify!($p))?
    }};
    (str $p:ident, $len:ident) => {{
        let bytes: &[u8] = {
            let (p, len) = $crate::macros::check_buf($p.cast::<u8>(), $len, stringify!($p))?;
            if len == 0 {
                &[]
            } else {
                // SAFETY: as for `slice`: the caller promises `len` readable bytes at `p`.
                unsafe { ::std::slice::from_raw_parts(p, len) }
            }
        };
        $crate::macros::check_utf8(bytes, stringify!($p))?
    }};
}

use crate::result::{fail, TwinResult};

/// A non-NULL, aligned pointer, or the error to return.
pub(crate) fn check_ptr<T>(p: *const T, name: &str) -> Result<*const T, TwinResult> {
    if p.is_null() {
        return Err(fail(
            TwinResult::NullParameter,
            format!("parameter `{name}` is NULL"),
        ));
    }
    if !p.is_aligned() {
        return Err(fail(
            TwinResult::InvalidInput,
            format!(
                "parameter `{name}` is not aligned to {} bytes",
                std::mem::align_of::<T>()
            ),
        ));
    }
    Ok(p)
}

/// A buffer of `len` elements: non-NULL unless empty, aligned, and small enough for memory.
pub(crate) fn check_buf<T>(
    p: *const T,
    len: usize,
    name: &str,
) -> Result<(*const T, usize), TwinResult> {
    if p.is_null() {
        if len == 0 {
            return Ok((p, 0));
        }
        return Err(fail(
            TwinResult::NullParameter,
            format!("parameter `{name}` is NULL but its length is {len}"),
        ));
    }
    let p = check_ptr(p, name)?;
    let size = std::mem::size_of::<T>().max(1);
    if len > isize::MAX as usize / size {
        return Err(fail(
            TwinResult::InvalidInput,
            format!("length {len} of `{name}` is too large"),
        ));
    }
    Ok((p, len))
}

/// [`check_ptr`] for a `*mut T`.
pub(crate) fn check_ptr_mut<T>(p: *mut T, name: &str) -> Result<*mut T, TwinResult> {
    check_ptr(p.cast_const(), name).map(<*const T>::cast_mut)
}

/// [`check_buf`] for an output buffer: its pointer only.
pub(crate) fn check_buf_mut<T>(p: *mut T, cap: usize, name: &str) -> Result<*mut T, TwinResult> {
    check_buf(p.cast_const(), cap, name).map(|(p, _)| p.cast_mut())
}

/// The bytes as `&str`, or `TWIN_RESULT_INVALID_UTF8`.
pub(crate) fn check_utf8<'a>(bytes: &'a [u8], name: &str) -> Result<&'a str, TwinResult> {
    std::str::from_utf8(bytes).map_err(|e| {
        fail(
            TwinResult::InvalidUtf8,
            format!("parameter `{name}` is not valid UTF-8: {e}"),
        )
    })
}
