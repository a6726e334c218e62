//! The local API's log line when standard error is not a terminal: the
//! bytes tracing-subscriber's compact format writes without colours,
//! written the short way. The send route logs two lines per request, and
//! the compact format spent most of its time on styles that are off,
//! padding, a date through `fmt` and every message character by character
//! through its escaping (issue 11). A test holds each line, but for the
//! time, equal to the compact format's; another holds the time's form.
//!
//! `timestamp level spans: target: message fields span-fields`, e.g.
//! `2026-11-26T08:02:52.694389Z  INFO request: access: request status=200 … route="/user/sms"`

use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::{LookupSpan, Scope, SpanRef};

/// The event format (see the module's documentation).
pub struct CompactLine;

impl<S, N> FormatEvent<S, N> for CompactLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        write_utc(&mut writer, SystemTime::now())?;
        let meta = event.metadata();
        writer.write_str(match *meta.level() {
            Level::TRACE => " TRACE ",
            Level::DEBUG => " DEBUG ",
            Level::INFO => "  INFO ",
            Level::WARN => "  WARN ",
            Level::ERROR => " ERROR ",
        })?;
        // The names, as the compact format writes them: of the event's
        // parent, or else of the current span (even for an explicit root).
        let span = event.parent().and_then(|id| ctx.span(id)).or_else(|| ctx.lookup_current());
        let mut any_span = false;
        if let Some(span) = span {
            from_root(span.scope(), &mut |span| {
                any_span = true;
                writer.write_str(span.metadata().name())?;
                writer.write_char(':')
            })?;
        }
        if any_span {
            writer.write_char(' ')?;
        }
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        ctx.format_fields(writer.by_ref(), event)?;
        // The fields, of the event's own scope (none for an explicit root).
        if let Some(scope) = ctx.event_scope() {
            from_root(scope, &mut |span| {
                let extensions = span.extensions();
                match extensions.get::<FormattedFields<N>>().filter(|f| !f.fields.is_empty()) {
                    Some(fields) => {
                        writer.write_char(' ')?;
                        writer.write_str(&fields.fields)
                    }
                    None => Ok(()),
                }
            })?;
        }
        writer.write_char('\n')
    }
}

/// Calls `each` on the spans of `scope` from the root, as `Scope::from_root`
/// would give them, but without collecting them into a `Vec` first (two
/// allocations a line; tracing-subscriber's `smallvec` feature would avoid
/// them too, but in every Lambda function's build as well). A scope lists
/// its spans leaf first, and is as deep as spans are nested: one, a
/// request's, in this service.
fn from_root<'a, R: LookupSpan<'a>>(
    mut scope: Scope<'a, R>,
    each: &mut impl FnMut(&SpanRef<'a, R>) -> fmt::Result,
) -> fmt::Result {
    match scope.next() {
        Some(span) => {
            from_root(scope, each)?;
            each(&span)
        }
        None => Ok(()),
    }
}

/// `2026-11-26T08:02:52.694389Z`: UTC, to the microsecond.
fn write_utc(writer: &mut Writer<'_>, now: SystemTime) -> fmt::Result {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs();
    let (year, month, day) = crate::clock::civil_from_days((seconds / 86_400) as i64);
    let in_day = seconds % 86_400;
    let mut text = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut value: u64| {
        for i in (at..at + width).rev() {
            text[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year.clamp(0, 9999) as u64);
    put(5, 2, u64::from(month));
    put(8, 2, u64::from(day));
    put(11, 2, in_day / 3600);
    put(14, 2, in_day / 60 % 60);
    put(17, 2, in_day % 60);
    put(20, 6, u64::from(since.subsec_micros()));
    writer.write_str(std::str::from_utf8(&text).expect("digits and ASCII punctuation"))
}

/// Fields as the compact format writes them: the message bare (its control
/// characters escaped), the others `name=value` with the value's `Debug`,
/// one space apart.
pub struct CompactFields;

impl<'a> MakeVisitor<Writer<'a>> for CompactFields {
    type Visitor = FieldWriter<'a>;

    fn make_visitor(&self, writer: Writer<'a>) -> FieldWriter<'a> {
        FieldWriter { writer, first: true, result: Ok(()) }
    }
}

pub struct FieldWriter<'a> {
    writer: Writer<'a>,
    first: bool,
    result: fmt::Result,
}

impl FieldWriter<'_> {
    /// Writes the separating space (none before the first field) and, but
    /// for the message, `name=`.
    fn start(&mut self, field: &Field) -> fmt::Result {
        if !std::mem::take(&mut self.first) {
            self.writer.write_char(' ')?;
        }
        match field.name() {
            "message" => Ok(()),
            name => {
                self.writer.write_str(name.strip_prefix("r#").unwrap_or(name))?;
                self.writer.write_char('=')
            }
        }
    }

    fn write(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = self.start(field).and_then(|()| value(&mut self.writer));
        }
    }
}

impl Visit for FieldWriter<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.write(field, |w| Escaping(w).write_str(value));
        } else if value.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ') {
            // What `Debug` writes for such a string: it, in quotes.
            self.write(field, |w| {
                w.write_char('"')?;
                w.write_str(value)?;
                w.write_char('"')
            });
        } else {
            self.write(field, |w| write!(w, "{value:?}"));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.write(field, |w| write!(Escaping(w), "{value:?}"));
        } else {
            self.write(field, |w| write!(w, "{value:?}"));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // Rare, and with its sources listed: the compact format's own visitor.
        if self.result.is_ok() {
            let mut fields = DefaultVisitor::new(self.writer.by_ref(), self.first);
            fields.record_error(field, value);
            self.result = fields.finish();
            self.first = false;
        }
    }
}

impl VisitOutput<fmt::Result> for FieldWriter<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for FieldWriter<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
    }
}

/// Writes through, escaping what a terminal would act on, as the compact
/// format escapes a message: ESC, BEL, BS, FF, DEL and the C1 controls.
/// Text with none of them (all of our own messages) goes out in one piece.
struct Escaping<'w, 'a>(&'w mut Writer<'a>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // C1 controls are U+0080..=U+009F, encoded 0xC2 0x80..=0x9F.
        if !s.bytes().any(|b| matches!(b, 0x07 | 0x08 | 0x0c | 0x1b | 0x7f | 0xc2)) {
            return self.0.write_str(s);
        }
        for ch in s.chars() {
            match ch {
                '\x1b' => self.0.write_str("\\x1b")?,
                '\x07' => self.0.write_str("\\x07")?,
                '\x08' => self.0.write_str("\\x08")?,
                '\x0c' => self.0.write_str("\\x0c")?,
                '\x7f' => self.0.write_str("\\x7f")?,
                '\u{80}'..='\u{9f}' => write!(self.0, "\\u{{{:x}}}", ch as u32)?,
                _ => self.0.write_char(ch)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::tests::WriteTo as Lines;
    use tracing_subscriber::layer::SubscriberExt as _;

    #[derive(Debug, thiserror::Error)]
    #[error("the outer failure")]
    struct Outer(#[source] std::io::Error);

    fn emit() {
        let span =
            tracing::info_span!("request", method = "POST", route = tracing::field::Empty, client_ip = %"127.0.0.1");
        let _entered = span.enter();
        span.record("route", "/user/sms");
        tracing::info!(target: "sms_log_backend", mobile = "13800138000", code = "338206", "SMS not sent (log backend): 您的注册验证码是338206，5分钟内有效");
        tracing::info!(target: "access", status = 200u16, latency_ms = 0.334, "request");
        let inner = tracing::warn_span!("inner", r#type = "nested");
        let _inner = inner.enter();
        tracing::warn!(
            text = "quote \" backslash \\ newline \n tab \t 中文",
            flag = true,
            n = -3i64,
            "a message with \x1b[31m escapes \u{85} and \x07"
        );
        let error = Outer(std::io::Error::other("the inner cause"));
        tracing::error!(error = &error as &(dyn std::error::Error + 'static), "failed");
        tracing::error!(target: "plain", message = "a message field given as a str \x1b", other = ?Some(1));
        let chain = "outer: inner \x1b[2J";
        tracing::info!(parent: None, error = %chain, "a root event {} and a %-field", 42);
    }

    fn without_time(text: &str) -> Vec<String> {
        text.lines().map(|line| line.split_once(' ').expect("a timestamp").1.to_owned()).collect()
    }

    #[test]
    fn each_line_is_what_the_compact_format_writes_without_colours() {
        let (ours, theirs) = (Lines::default(), Lines::default());
        let ours_layer = tracing_subscriber::fmt::layer()
            .with_writer({
                let ours = ours.clone();
                move || ours.clone()
            })
            .with_ansi(false)
            .event_format(CompactLine)
            .fmt_fields(CompactFields);
        let theirs_layer = tracing_subscriber::fmt::layer()
            .with_writer({
                let theirs = theirs.clone();
                move || theirs.clone()
            })
            .with_ansi(false)
            .compact();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(ours_layer).with(theirs_layer), emit);
        let ours = String::from_utf8(ours.0.lock().unwrap().clone()).unwrap();
        let theirs = String::from_utf8(theirs.0.lock().unwrap().clone()).unwrap();
        println!("{ours}");
        assert_eq!(ours.lines().count(), 6, "{ours}");
        assert_eq!(without_time(&ours), without_time(&theirs));
        assert!(ours.contains(r#"code="338206""#), "the README reads the code this way:\n{ours}");
    }

    fn utc(seconds: u64, micros: u32) -> String {
        let mut text = String::new();
        let at = UNIX_EPOCH + std::time::Duration::new(seconds, micros * 1_000);
        write_utc(&mut Writer::new(&mut text), at).unwrap();
        text
    }

    #[test]
    fn timestamps_are_utc_to_the_microsecond() {
        assert_eq!(utc(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(utc(951_782_400, 7), "2000-02-29T00:00:00.000007Z");
        assert_eq!(utc(1_709_251_199, 999_999), "2024-02-29T23:59:59.999999Z");
        assert_eq!(utc(1_795_622_399, 694_389), "2026-11-25T15:59:59.694389Z");
        assert_eq!(utc(4_107_542_400, 0), "2100-03-01T00:00:00.000000Z");
    }
}
