//! Logs, through `tracing`, in Redis's line format so that tools that read
//! Redis's logs read ours: `pid:M 01 Dec 2026 21:50:21.398 * message`,
//! with the level as Redis marks it (`.` debug, `-` verbose, `*` notice,
//! `#` warning) and structured fields after the message as `key=value`.
//! Lines go to standard output or `logfile`, and to syslog as well when
//! `syslog-enabled` is on.

use crate::config::{Config, LogLevel};
use std::ffi::CString;
use std::fmt;
use std::io::Write;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{layer::SubscriberExt, reload, util::SubscriberInitExt};

pub type SetLevel = Box<dyn Fn(LogLevel) + Send + Sync>;

struct RedisFormat;

/// `01 Dec 2026 21:50:21.398` in local time, as Redis stamps its lines.
fn timestamp(w: &mut Writer<'_>) -> fmt::Result {
    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let mut buf = [0u8; 64];
    // SAFETY: gettimeofday/localtime_r/strftime fill buffers we own; the
    // format is a NUL-terminated literal.
    let n = unsafe {
        libc::gettimeofday(&mut tv, std::ptr::null_mut());
        libc::localtime_r(&tv.tv_sec, &mut tm);
        libc::strftime(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            c"%d %b %Y %H:%M:%S.".as_ptr(),
            &tm,
        )
    };
    w.write_str(std::str::from_utf8(&buf[..n]).unwrap_or(""))?;
    write!(w, "{:03}", tv.tv_usec / 1000)
}

fn mark(level: &Level) -> char {
    match *level {
        Level::TRACE => '.',
        Level::DEBUG => '-',
        Level::INFO => '*',
        _ => '#',
    }
}

impl<S, N> FormatEvent<S, N> for RedisFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(w, "{}:M ", std::process::id())?;
        timestamp(&mut w)?;
        write!(w, " {} ", mark(event.metadata().level()))?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// Sends each formatted line to syslog with the priority of its level.
struct Syslog;

struct SyslogLine {
    prio: libc::c_int,
    buf: Vec<u8>,
}

impl Write for SyslogLine {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SyslogLine {
    fn drop(&mut self) {
        while self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        }
        self.buf.retain(|&c| c != 0);
        if let Ok(line) = CString::new(std::mem::take(&mut self.buf)) {
            // SAFETY: "%s" with one NUL-terminated string.
            unsafe { libc::syslog(self.prio, c"%s".as_ptr(), line.as_ptr()) };
        }
    }
}

impl<'a> MakeWriter<'a> for Syslog {
    type Writer = SyslogLine;
    fn make_writer(&'a self) -> SyslogLine {
        SyslogLine {
            prio: libc::LOG_NOTICE,
            buf: Vec::new(),
        }
    }
    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> SyslogLine {
        let prio = match *meta.level() {
            Level::TRACE | Level::DEBUG => libc::LOG_DEBUG,
            Level::INFO => libc::LOG_NOTICE,
            _ => libc::LOG_WARNING,
        };
        SyslogLine {
            prio,
            buf: Vec::new(),
        }
    }
}

fn open_syslog(cfg: &Config) {
    let facility = match cfg.get("syslog-facility") {
        "user" => libc::LOG_USER,
        "local1" => libc::LOG_LOCAL1,
        "local2" => libc::LOG_LOCAL2,
        "local3" => libc::LOG_LOCAL3,
        "local4" => libc::LOG_LOCAL4,
        "local5" => libc::LOG_LOCAL5,
        "local6" => libc::LOG_LOCAL6,
        "local7" => libc::LOG_LOCAL7,
        _ => libc::LOG_LOCAL0,
    };
    let ident = CString::new(cfg.get("syslog-ident").replace('\0', "")).unwrap_or_default();
    // openlog keeps the pointer: the ident lives for the whole process.
    let ident: &'static std::ffi::CStr = Box::leak(ident.into_boxed_c_str());
    // SAFETY: a 'static NUL-terminated ident and integer flags.
    unsafe {
        libc::openlog(
            ident.as_ptr(),
            libc::LOG_PID | libc::LOG_NDELAY | libc::LOG_NOWAIT,
            facility,
        )
    };
}

/// Installs the logger; returns the function that changes its level.
pub fn init(cfg: &Config) -> std::io::Result<SetLevel> {
    let (filter, handle) = reload::Layer::new(cfg.loglevel().tracing_filter());
    let syslog = cfg.yes("syslog-enabled");
    if syslog {
        open_syslog(cfg);
    }
    use tracing_subscriber::fmt::writer::{BoxMakeWriter, MakeWriterExt};
    let primary = if cfg.logfile().is_empty() {
        BoxMakeWriter::new(std::io::stdout)
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(cfg.logfile())?;
        BoxMakeWriter::new(std::sync::Mutex::new(file))
    };
    let writer = if syslog {
        BoxMakeWriter::new(primary.and(Syslog))
    } else {
        primary
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .event_format(RedisFormat)
                .with_ansi(false)
                .with_writer(writer),
        )
        .init();
    Ok(Box::new(move |l: LogLevel| {
        let _ = handle.modify(|f| *f = l.tracing_filter());
    }))
}
