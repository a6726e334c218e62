//! The abuse limits as counters: for each, its window, its key and its
//! limit. Windows are fixed and named in the key (`…#<window index>`): a
//! day is a calendar day in China time (UTC+8), an hour and ten minutes are
//! wall-clock slots, and the login lock is a slot of `LOGIN_LOCK_SECONDS`.

use std::fmt::{self, Write as _};
use std::net::IpAddr;

use crate::auth::Pseudonyms;
use crate::config::Limits;
use crate::domain::Mobile;
use crate::store::{Counter, LimitStore, StoreError};

const CHINA_UTC_OFFSET: i64 = 8 * 3600;

/// The index of the `length`-second slot holding `now` (shifted by
/// `offset`), and the Unix second at which it ends.
fn slot(now: i64, length: i64, offset: i64) -> (i64, i64) {
    let index = (now + offset).div_euclid(length);
    (index, (index + 1) * length - offset)
}

fn china_day(now: i64) -> (i64, i64) {
    slot(now, 86_400, CHINA_UTC_OFFSET)
}

/// Builds the counters of each limit; `None` where the limit is off.
pub struct Limiter<'a> {
    pub limits: Limits,
    pub pseudonyms: &'a Pseudonyms,
}

/// A client address as a key: an unknown one shares one bucket.
fn address(ip: Option<IpAddr>) -> String {
    // The longest address text, eight groups of four hex digits, is 39 characters.
    let mut text = String::with_capacity(39);
    match ip {
        Some(ip) => write!(text, "{ip}").expect("a String takes any text"),
        None => text.push_str("unknown"),
    }
    text
}

/// Room for the longest key, `LIMIT#auth-ip#<32 hex digits>#<window>`,
/// so that a key is one allocation.
const KEY_CAPACITY: usize = 64;

impl Limiter<'_> {
    fn counter(limit: Option<u32>, key: fmt::Arguments<'_>, (index, window_ends): (i64, i64)) -> Option<Counter> {
        limit.map(|limit| {
            let mut text = String::with_capacity(KEY_CAPACITY);
            write!(text, "LIMIT#{key}#{index}").expect("a String takes any text");
            Counter { key: text, limit, window_ends }
        })
    }

    pub fn sms_per_mobile(&self, mobile: &Mobile, now: i64) -> Option<Counter> {
        let limit = self.limits.sms_per_mobile_per_day;
        Self::counter(limit, format_args!("sms-mobile#{}", mobile.as_str()), china_day(now))
    }

    pub fn sms_per_ip(&self, ip: Option<IpAddr>, now: i64) -> Option<Counter> {
        let pseudonym = self.pseudonyms.of("ip", &address(ip));
        Self::counter(self.limits.sms_per_ip_per_hour, format_args!("sms-ip#{pseudonym}"), slot(now, 3_600, 0))
    }

    pub fn sms_budget(&self, now: i64) -> Option<Counter> {
        Self::counter(self.limits.sms_daily_budget, format_args!("sms-budget"), china_day(now))
    }

    pub fn auth_per_ip(&self, ip: Option<IpAddr>, now: i64) -> Option<Counter> {
        let pseudonym = self.pseudonyms.of("ip", &address(ip));
        Self::counter(
            self.limits.auth_attempts_per_ip_per_10_min,
            format_args!("auth-ip#{pseudonym}"),
            slot(now, 600, 0),
        )
    }

    /// Keyed by the username as typed (normalised when it is a mobile), so
    /// an unknown username locks exactly like a registered one.
    pub fn login_failures(&self, username: &str, now: i64) -> Option<Counter> {
        let pseudonym = self.pseudonyms.of("user", username);
        let window = slot(now, self.limits.login_lock_seconds, 0);
        Self::counter(self.limits.login_max_failures, format_args!("login#{pseudonym}"), window)
    }

    pub fn code_failures(&self, mobile: &Mobile, now: i64) -> Option<Counter> {
        let limit = self.limits.code_failures_per_mobile_per_day;
        Self::counter(limit, format_args!("code-failures#{}", mobile.as_str()), china_day(now))
    }
}

/// What taking one from a limit gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// The limit is off.
    Unlimited,
    /// Counted; the count is now this.
    Counted(u32),
    /// At its limit until its window ends.
    Refused { retry_after: u64 },
}

pub async fn take(store: &dyn LimitStore, counter: Option<&Counter>, now: i64) -> Result<Taken, StoreError> {
    let Some(counter) = counter else {
        return Ok(Taken::Unlimited);
    };
    Ok(match store.take(counter).await? {
        Some(n) => Taken::Counted(n),
        None => Taken::Refused { retry_after: retry_after(counter, now) },
    })
}

/// Seconds until the counter's window ends, at least one.
pub fn retry_after(counter: &Counter, now: i64) -> u64 {
    (counter.window_ends - now).max(1) as u64
}

pub async fn give_back(store: &dyn LimitStore, counter: Option<&Counter>) -> Result<(), StoreError> {
    match counter {
        Some(counter) => store.give_back(counter).await,
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_china_day_starts_at_midnight_utc_plus_eight() {
        // 2026-11-25T15:59:59Z is 23:59:59 in Beijing; one second later is the next day.
        let before = 1_795_622_399;
        let (day, ends) = china_day(before);
        assert_eq!(ends, before + 1);
        assert_eq!(china_day(before + 1).0, day + 1);
    }

    #[test]
    fn every_key_reads_limit_kind_who_and_window_and_fits_one_allocation() {
        let pseudonyms = Pseudonyms::from_secret(&b"a secret of at least thirty-two bytes!".to_vec().into());
        let some = Some(1);
        let limits = Limits {
            sms_per_mobile_per_day: some,
            sms_per_ip_per_hour: some,
            sms_daily_budget: some,
            auth_attempts_per_ip_per_10_min: some,
            login_max_failures: some,
            login_lock_seconds: 900,
            code_failures_per_mobile_per_day: some,
        };
        let limiter = Limiter { limits, pseudonyms: &pseudonyms };
        let (mobile, now) = (Mobile::parse("13812345678").unwrap(), 1_795_622_400);
        let v6: IpAddr = "::ffff:203.0.113.9".parse().unwrap();
        let ip = pseudonyms.of("ip", "::ffff:203.0.113.9");
        let keys = [
            (limiter.sms_per_mobile(&mobile, now), format!("LIMIT#sms-mobile#13812345678#{}", china_day(now).0)),
            (limiter.sms_per_ip(Some(v6), now), format!("LIMIT#sms-ip#{ip}#{}", now / 3_600)),
            (limiter.sms_budget(now), format!("LIMIT#sms-budget#{}", china_day(now).0)),
            (limiter.auth_per_ip(Some(v6), now), format!("LIMIT#auth-ip#{ip}#{}", now / 600)),
            (
                limiter.login_failures("alice", now),
                format!("LIMIT#login#{}#{}", pseudonyms.of("user", "alice"), now / 900),
            ),
            (limiter.code_failures(&mobile, now), format!("LIMIT#code-failures#13812345678#{}", china_day(now).0)),
        ];
        for (counter, expected) in keys {
            let counter = counter.expect("every limit is on");
            assert_eq!(counter.key, expected);
            assert_eq!(counter.key.capacity(), KEY_CAPACITY, "{} grew past its first allocation", counter.key);
        }
        let unknown = limiter.sms_per_ip(None, now).unwrap().key;
        assert_eq!(unknown, format!("LIMIT#sms-ip#{}#{}", pseudonyms.of("ip", "unknown"), now / 3_600));
    }

    #[test]
    fn a_slot_ends_at_the_next_multiple_of_its_length() {
        assert_eq!(slot(3_600 * 5 + 10, 3_600, 0), (5, 3_600 * 6));
        assert_eq!(slot(599, 600, 0), (0, 600));
        assert_eq!(slot(600, 600, 0), (1, 1_200));
    }
}
