//! The open-loop clock of `downline-tools loadtest`: waits until a request's
//! scheduled instant, to within a few microseconds, inside the async
//! runtime.
//!
//! tokio's own timer rounds to a millisecond, which at 10,000 requests/s
//! would send them in bursts of ten. On Linux the clock is a `timerfd`
//! polled by the runtime's reactor: the thread that sends requests and
//! reads answers also keeps the schedule, so no second thread has to be
//! woken for every request (that hand-over cost the generator about a
//! third of its CPU). Elsewhere it falls back to tokio's timer.

use std::time::Instant;

/// Lets the kernel wake the calling thread within a nanosecond of its
/// timers instead of the default 50 µs slack (Linux; elsewhere nothing).
pub fn precise_timer_slack() {
    #[cfg(target_os = "linux")]
    linux::precise_timer_slack();
}

/// Waits until scheduled instants.
pub struct Clock {
    #[cfg(target_os = "linux")]
    timer: linux::TimerFd,
}

impl Clock {
    /// A clock for the current runtime; must be called inside it.
    pub fn new() -> Result<Clock, String> {
        #[cfg(target_os = "linux")]
        {
            Ok(Clock { timer: linux::TimerFd::new()? })
        }
        #[cfg(not(target_os = "linux"))]
        {
            Ok(Clock {})
        }
    }

    /// Returns at `deadline` (at once if it has passed).
    pub async fn wait_until(&mut self, deadline: Instant) -> Result<(), String> {
        let now = Instant::now();
        if deadline <= now {
            return Ok(());
        }
        #[cfg(target_os = "linux")]
        {
            self.timer.wait(deadline - now).await
        }
        #[cfg(not(target_os = "linux"))]
        {
            tokio::time::sleep_until(deadline.into()).await;
            Ok(())
        }
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // the system calls of the clock: each block has its SAFETY comment
mod linux {
    use std::ffi::{c_int, c_long, c_ulong};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::Duration;
    use tokio::io::unix::AsyncFd;

    const CLOCK_MONOTONIC: c_int = 1;
    const TFD_NONBLOCK: c_int = 0o4000;
    const TFD_CLOEXEC: c_int = 0o2000000;
    const PR_SET_TIMERSLACK: c_int = 29;

    /// `struct itimerspec` of 64-bit Linux: interval, then first expiry.
    #[repr(C)]
    struct ItimerSpec {
        interval_s: c_long,
        interval_ns: c_long,
        value_s: c_long,
        value_ns: c_long,
    }

    extern "C" {
        fn timerfd_create(clockid: c_int, flags: c_int) -> c_int;
        fn timerfd_settime(fd: c_int, flags: c_int, new: *const ItimerSpec, old: *mut ItimerSpec) -> c_int;
        fn prctl(option: c_int, ...) -> c_int;
    }

    /// Lets the kernel wake the calling thread within a nanosecond of its
    /// timers instead of the default 50 µs slack.
    pub fn precise_timer_slack() {
        // SAFETY: PR_SET_TIMERSLACK takes one unsigned long (nanoseconds)
        // and only changes the calling thread's timer slack.
        let _ = unsafe { prctl(PR_SET_TIMERSLACK, 1 as c_ulong) };
    }

    /// A one-shot monotonic timer the reactor watches.
    pub struct TimerFd(AsyncFd<OwnedFd>);

    impl TimerFd {
        pub fn new() -> Result<TimerFd, String> {
            // Without it the kernel may wake the reactor 50 µs late.
            precise_timer_slack();
            // SAFETY: timerfd_create takes two ints and returns a new file
            // descriptor or -1; nothing else is touched.
            let fd = unsafe { timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC) };
            if fd < 0 {
                return Err(format!("timerfd_create: {}", std::io::Error::last_os_error()));
            }
            // SAFETY: `fd` was just created and is owned by nobody else.
            let owned = unsafe { OwnedFd::from_raw_fd(fd) };
            // SAFETY: the `OwnedFd` is moved into the `AsyncFd` and neither
            // replaced nor closed while it is registered.
            let registered = unsafe { AsyncFd::register(owned) };
            registered.map(TimerFd).map_err(|e| format!("watching the timerfd: {e}"))
        }

        /// Arms the timer `after` from now and waits for it.
        pub async fn wait(&mut self, after: Duration) -> Result<(), String> {
            let spec = ItimerSpec {
                interval_s: 0,
                interval_ns: 0,
                value_s: after.as_secs() as c_long,
                // An all-zero value would disarm the timer instead.
                value_ns: after.subsec_nanos().max(u32::from(after.is_zero())) as c_long,
            };
            // SAFETY: the fd is a live timerfd; `spec` is a valid itimerspec
            // and the old value is not asked for.
            if unsafe { timerfd_settime(self.0.as_raw_fd(), 0, &spec, std::ptr::null_mut()) } != 0 {
                return Err(format!("timerfd_settime: {}", std::io::Error::last_os_error()));
            }
            loop {
                let mut guard = self.0.readable().await.map_err(|e| format!("timerfd: {e}"))?;
                let mut expirations = [0u8; 8];
                match guard.try_io(|fd| read_fd(fd.get_ref().as_raw_fd(), &mut expirations)) {
                    Ok(Ok(_)) => return Ok(()),
                    Ok(Err(e)) => return Err(format!("reading the timerfd: {e}")),
                    Err(_would_block) => continue,
                }
            }
        }
    }

    fn read_fd(fd: c_int, buf: &mut [u8; 8]) -> std::io::Result<usize> {
        extern "C" {
            fn read(fd: c_int, buf: *mut u8, count: usize) -> isize;
        }
        // SAFETY: `buf` is 8 writable bytes, the size a timerfd read needs.
        let n = unsafe { read(fd, buf.as_mut_ptr(), buf.len()) };
        if n < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}
