//! The one result code of the C API, [`TwinResult`], its messages, and the thread-local
//! detail of the last failure.

use std::cell::RefCell;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use twin::{Error, ErrorKind};

/// What became of a call: `TWIN_RESULT_OK` (0) or why it failed.
///
/// Codes are append-only: a code never changes meaning and is never reused. Codes 1 to 999
/// are the kinds of error of the engine itself (code = 1 + position in the engine's list
/// of kinds); codes from 1000 are errors of the C interface (a NULL pointer, a buffer too
/// small, ...). `twin_result_message` gives a short static description of any code.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TwinResult {
    /// Success.
    Ok = 0,
    /// An argument or a configuration value is invalid (also: a misaligned pointer, a
    /// length too large for memory, a command time earlier than the last command's).
    InvalidInput = 1,
    /// A value is NaN or infinite.
    NonFinite = 2,
    /// A signal, property or command name (or id) is not in the schema.
    UnknownSignal = 3,
    /// A sample is older than the last accepted sample of its signal.
    OutOfOrder = 4,
    /// A sample repeats the time and value of the last accepted sample of its signal.
    Duplicate = 5,
    /// A sample has the time of the last accepted sample of its signal but another value.
    TimestampConflict = 6,
    /// A value lies outside the valid range the schema gives for it.
    OutOfRange = 7,
    /// A schema could not be parsed or is inconsistent.
    Schema = 8,
    /// A command would change faster (or sooner) than its rate limits allow.
    RateLimited = 9,
    /// An optimistic-concurrency check failed: the state version has moved on.
    VersionConflict = 10,
    /// A bounded channel is full and its policy is to refuse.
    ChannelFull = 11,
    /// The other end of a connection has gone away.
    Disconnected = 12,
    /// Reading or writing a file or stream failed.
    Io = 13,
    /// Saved data (a snapshot) could not be encoded or decoded, or does not fit the twin.
    Serialization = 14,
    /// A twin id is not in the fleet.
    UnknownTwin = 15,
    /// A configured resource limit (history length, schema size, batch size, number of
    /// twins) would be exceeded.
    LimitExceeded = 16,
    /// A long run was cancelled before it finished.
    Cancelled = 17,
    /// A pointer parameter that must not be NULL was NULL.
    NullParameter = 1000,
    /// A string parameter is not valid UTF-8.
    InvalidUtf8 = 1001,
    /// An output buffer is too small; nothing was written to it.
    BufferTooSmall = 1002,
    /// The library panicked (a bug in libtwin). The handle involved should be freed and
    /// not used further.
    Panic = 1003,
    /// The requested value does not exist (yet): for example a signal never reported.
    NotFound = 1004,
    /// An error of a kind this version of the C interface has no code for.
    Other = 1005,
}

impl TwinResult {
    /// Every code, in order.
    pub const ALL: [TwinResult; 24] = [
        TwinResult::Ok,
        TwinResult::InvalidInput,
        TwinResult::NonFinite,
        TwinResult::UnknownSignal,
        TwinResult::OutOfOrder,
        TwinResult::Duplicate,
        TwinResult::TimestampConflict,
        TwinResult::OutOfRange,
        TwinResult::Schema,
        TwinResult::RateLimited,
        TwinResult::VersionConflict,
        TwinResult::ChannelFull,
        TwinResult::Disconnected,
        TwinResult::Io,
        TwinResult::Serialization,
        TwinResult::UnknownTwin,
        TwinResult::LimitExceeded,
        TwinResult::Cancelled,
        TwinResult::NullParameter,
        TwinResult::InvalidUtf8,
        TwinResult::BufferTooSmall,
        TwinResult::Panic,
        TwinResult::NotFound,
        TwinResult::Other,
    ];

    /// The code of an engine error kind (by kind, never by message).
    pub fn from_kind(kind: ErrorKind) -> TwinResult {
        match kind {
            ErrorKind::InvalidInput => TwinResult::InvalidInput,
            ErrorKind::NonFinite => TwinResult::NonFinite,
            ErrorKind::UnknownSignal => TwinResult::UnknownSignal,
            ErrorKind::OutOfOrder => TwinResult::OutOfOrder,
            ErrorKind::Duplicate => TwinResult::Duplicate,
            ErrorKind::TimestampConflict => TwinResult::TimestampConflict,
            ErrorKind::OutOfRange => TwinResult::OutOfRange,
            ErrorKind::Schema => TwinResult::Schema,
            ErrorKind::RateLimited => TwinResult::RateLimited,
            ErrorKind::VersionConflict => TwinResult::VersionConflict,
            ErrorKind::ChannelFull => TwinResult::ChannelFull,
            ErrorKind::Disconnected => TwinResult::Disconnected,
            ErrorKind::Io => TwinResult::Io,
            ErrorKind::Serialization => TwinResult::Serialization,
            ErrorKind::UnknownTwin => TwinResult::UnknownTwin,
            ErrorKind::LimitExceeded => TwinResult::LimitExceeded,
            ErrorKind::Cancelled => TwinResult::Cancelled,
            _ => TwinResult::Other,
        }
    }

    /// The code with this number, if there is one.
    pub fn from_u32(code: u32) -> Option<TwinResult> {
        TwinResult::ALL.iter().copied().find(|r| *r as u32 == code)
    }

    /// A short static description.
    pub fn message(self) -> &'static CStr {
        match self {
            TwinResult::Ok => c"success",
            TwinResult::InvalidInput => c"invalid input",
            TwinResult::NonFinite => c"value is NaN or infinite",
            TwinResult::UnknownSignal => c"unknown signal, property or command",
            TwinResult::OutOfOrder => c"sample is older than the last accepted one of its signal",
            TwinResult::Duplicate => c"sample repeats the last accepted one of its signal",
            TwinResult::TimestampConflict => {
                c"sample has the time of the last accepted one of its signal but another value"
            }
            TwinResult::OutOfRange => c"value is outside its valid range",
            TwinResult::Schema => c"schema is malformed or inconsistent",
            TwinResult::RateLimited => c"command refused by its rate limit",
            TwinResult::VersionConflict => c"version conflict: the state has moved on",
            TwinResult::ChannelFull => c"channel full",
            TwinResult::Disconnected => c"disconnected",
            TwinResult::Io => c"i/o error",
            TwinResult::Serialization => c"saved data could not be encoded or decoded",
            TwinResult::UnknownTwin => c"unknown twin (not in the fleet)",
            TwinResult::LimitExceeded => c"a configured resource limit would be exceeded",
            TwinResult::Cancelled => c"the run was cancelled before it finished",
            TwinResult::NullParameter => c"a required pointer parameter is NULL",
            TwinResult::InvalidUtf8 => c"string is not valid UTF-8",
            TwinResult::BufferTooSmall => c"output buffer is too small",
            TwinResult::Panic => c"internal error (panic) in libtwin",
            TwinResult::NotFound => c"no such value",
            TwinResult::Other => c"error of a kind this interface has no code for",
        }
    }
}

thread_local! {
    /// The detailed message of this thread's last failure.
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
    /// The detail given by the failing call now running, until the boundary records it.
    static PENDING: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Note the detail of a failure and give its code back, for `return Err(fail(..))`.
pub(crate) fn fail(code: TwinResult, detail: impl Into<String>) -> TwinResult {
    let detail = detail.into();
    let _ = PENDING.try_with(|p| *p.borrow_mut() = Some(detail));
    code
}

/// [`fail`] with an engine error: its code by kind, its message as detail.
pub(crate) fn fail_err(e: Error) -> TwinResult {
    fail(TwinResult::from_kind(e.kind()), e.to_string())
}

/// Turns engine results into C-interface results, recording the detail.
pub(crate) trait OrFail<T> {
    /// The value, or the error's code with its message noted.
    fn or_fail(self) -> Result<T, TwinResult>;
}

impl<T> OrFail<T> for twin::Result<T> {
    fn or_fail(self) -> Result<T, TwinResult> {
        self.map_err(fail_err)
    }
}

fn panic_detail(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        format!("panic: {s}")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("panic: {s}")
    } else {
        "panic".to_string()
    }
}

/// The panic boundary behind `ffi_boundary!`: see there.
pub(crate) fn run_boundary(
    name: &'static str,
    record: bool,
    body: impl FnOnce() -> Result<(), TwinResult>,
) -> TwinResult {
    let _ = PENDING.try_with(|p| p.borrow_mut().take());
    let code = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => TwinResult::Ok,
        Ok(Err(code)) => code,
        Err(payload) => fail(TwinResult::Panic, panic_detail(payload.as_ref())),
    };
    let detail = PENDING.try_with(|p| p.borrow_mut().take()).ok().flatten();
    if record && code != TwinResult::Ok {
        let detail = detail.unwrap_or_else(|| code.message().to_string_lossy().into_owned());
        let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = format!("{name}: {detail}"));
    }
    code
}

/// The panic boundary of functions that cannot fail: `on_panic` if `body` panics.
pub(crate) fn run_boundary_value<T>(
    name: &'static str,
    on_panic: T,
    body: impl FnOnce() -> T,
) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(payload) => {
            let detail = panic_detail(payload.as_ref());
            let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = format!("{name}: {detail}"));
            on_panic
        }
    }
}

/// Copy `s` and a NUL terminator into a caller's buffer of `cap` bytes; `*out_len` gets
/// the length without the NUL. `buf == NULL && cap == 0` asks for the length only.
pub(crate) fn copy_str_out(
    s: &str,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> Result<(), TwinResult> {
    let out_len = arg!(out out_len);
    let buf = arg!(out_slice buf, cap);
    if buf.is_null() {
        // SAFETY: `out_len` is checked non-NULL and aligned.
        unsafe { out_len.write(s.len()) };
        return Ok(());
    }
    if cap <= s.len() {
        return Err(fail(
            TwinResult::BufferTooSmall,
            format!(
                "the buffer holds {cap} bytes; {} are needed (text and NUL)",
                s.len() + 1
            ),
        ));
    }
    // SAFETY: `buf` is non-NULL and the caller promises `cap` writable bytes, of which we
    // write `s.len() + 1 <= cap`; a caller's buffer cannot overlap our string.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr().cast::<c_char>(), buf, s.len());
        buf.add(s.len()).write(0);
        out_len.write(s.len());
    }
    Ok(())
}

/// A static, NUL-terminated description of a result code.
///
/// Accepts any number, including codes this version does not know (for which it returns
/// "unknown result code"). The string lives for the whole program; do not free it.
///
/// Thread safety: may be called from any thread at any time.
#[no_mangle]
pub extern "C" fn twin_result_message(result: u32) -> *const c_char {
    ffi_boundary!(value "twin_result_message", c"unknown result code".as_ptr(), {
        match TwinResult::from_u32(result) {
            Some(code) => code.message().as_ptr(),
            None => c"unknown result code".as_ptr(),
        }
    })
}

/// Copy the detailed message of the last failed call on this thread into `buf`.
///
/// The message is NUL-terminated; `*out_len` gets its length in bytes without the NUL.
/// Pass `buf = NULL` and `cap = 0` to learn the length only (then allocate `*out_len + 1`
/// bytes). If no call has failed on this thread yet, the message is empty. Successful calls
/// do not clear it. This function's own failures do not replace the stored message.
///
/// Returns `TWIN_RESULT_NULL_PARAMETER` if `out_len` is NULL (or `buf` is NULL with `cap`
/// non-zero) and `TWIN_RESULT_BUFFER_TOO_SMALL` if `cap <= *out_len` would be; on failure
/// nothing is written.
///
/// Thread safety: may be called from any thread; each thread has its own last message.
///
/// # Safety
/// `buf` must be NULL or point to `cap` writable bytes; `out_len` must point to a writable
/// `size_t`.
#[no_mangle]
pub unsafe extern "C" fn twin_last_error_message(
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> TwinResult {
    ffi_boundary!(quiet "twin_last_error_message", {
        let msg = LAST_ERROR
            .try_with(|e| e.borrow().clone())
            .unwrap_or_default();
        copy_str_out(&msg, buf, cap, out_len)
    })
}

/// The library's version, for example `"0.1.0"`: a static NUL-terminated string.
///
/// Thread safety: may be called from any thread at any time.
#[no_mangle]
pub extern "C" fn twin_version() -> *const c_char {
    ffi_boundary!(value "twin_version", c"".as_ptr(), {
        const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
        VERSION.as_ptr().cast::<c_char>()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_kind_has_its_own_code_in_order() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            let code = TwinResult::from_kind(*kind);
            assert_ne!(code, TwinResult::Other, "{kind} has no C code");
            assert_eq!(code as u32, i as u32 + 1, "{kind}");
        }
        // No two codes share a number, and every code has a message.
        let mut nums: Vec<u32> = TwinResult::ALL.iter().map(|r| *r as u32).collect();
        nums.sort_unstable();
        nums.dedup();
        assert_eq!(nums.len(), TwinResult::ALL.len());
        for r in TwinResult::ALL {
            assert_eq!(TwinResult::from_u32(r as u32), Some(r));
            assert!(!r.message().to_bytes().is_empty());
        }
        assert_eq!(TwinResult::from_u32(999), None);
    }

    #[test]
    fn messages_of_known_and_unknown_codes() {
        let msg = |c: u32| {
            // SAFETY: twin_result_message returns a static NUL-terminated string.
            unsafe { CStr::from_ptr(twin_result_message(c)) }
                .to_str()
                .expect("ascii")
                .to_string()
        };
        assert_eq!(msg(0), "success");
        assert_eq!(
            msg(TwinResult::NullParameter as u32),
            "a required pointer parameter is NULL"
        );
        assert_eq!(msg(424_242), "unknown result code");
        // SAFETY: static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(twin_version()) };
        assert_eq!(v.to_str().expect("ascii"), env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn a_panic_becomes_a_code_and_a_message() {
        let code = ffi_boundary!("test_panics", {
            if TwinResult::ALL.len() > 1 {
                panic!("boom");
            }
            Ok(())
        });
        assert_eq!(code, TwinResult::Panic);
        let mut buf = [0 as c_char; 64];
        let mut len = 0usize;
        // SAFETY: valid buffer and length pointer.
        let r = unsafe { twin_last_error_message(buf.as_mut_ptr(), buf.len(), &mut len) };
        assert_eq!(r, TwinResult::Ok);
        // SAFETY: NUL-terminated by the call.
        let s = unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_str()
            .expect("utf8");
        assert_eq!(s, "test_panics: panic: boom");
        assert_eq!(len, s.len());
    }

    #[test]
    fn last_error_buffer_rules() {
        let code = ffi_boundary!("test_fails", {
            Err(fail(TwinResult::NotFound, "nothing here"))
        });
        assert_eq!(code, TwinResult::NotFound);
        let expected = "test_fails: nothing here";
        // Length query.
        let mut len = 7usize;
        // SAFETY: NULL buffer with cap 0 is the documented length query.
        let r = unsafe { twin_last_error_message(std::ptr::null_mut(), 0, &mut len) };
        assert_eq!((r, len), (TwinResult::Ok, expected.len()));
        // Too small by one (no room for the NUL): nothing written, message kept.
        let mut buf = [b'x' as c_char; 64];
        let mut len = 7usize;
        // SAFETY: valid buffer of at least `cap` bytes.
        let r = unsafe { twin_last_error_message(buf.as_mut_ptr(), expected.len(), &mut len) };
        assert_eq!((r, len), (TwinResult::BufferTooSmall, 7));
        assert!(buf.iter().all(|&c| c == b'x' as c_char));
        // NULL out_len, and NULL buffer with a capacity: refused, message still kept.
        // SAFETY: checked by the function.
        let r = unsafe { twin_last_error_message(buf.as_mut_ptr(), 64, std::ptr::null_mut()) };
        assert_eq!(r, TwinResult::NullParameter);
        // SAFETY: checked by the function.
        let r = unsafe { twin_last_error_message(std::ptr::null_mut(), 4, &mut len) };
        assert_eq!((r, len), (TwinResult::NullParameter, 7));
        // Exactly enough.
        // SAFETY: valid buffer.
        let r = unsafe { twin_last_error_message(buf.as_mut_ptr(), expected.len() + 1, &mut len) };
        assert_eq!((r, len), (TwinResult::Ok, expected.len()));
        // SAFETY: NUL-terminated by the call.
        let s = unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_str()
            .expect("utf8");
        assert_eq!(s, expected);
    }
}
