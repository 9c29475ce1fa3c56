//! Failed sign-ins are limited in a sliding window kept in memory on each node, three ways:
//! - per (email, client address): guessing one user's password from one place stops after
//!   `MAX_FAILURES_PER_EMAIL`; the same user signing in from elsewhere is not refused, so a
//!   stranger cannot lock a user out by failing on purpose from their own address;
//! - per client address: one address cannot spread guesses over many users;
//! - per email from anywhere, with a budget large enough that reaching it takes failures from at
//!   least `MAX_FAILURES_PER_EMAIL_ANYWHERE / MAX_FAILURES_PER_EMAIL` addresses: the bound on a
//!   distributed guess, which an ordinary user's retries never reach.
//!
//!
//! Second factors have a budget of their own, per user and from anywhere
//! (`MAX_SECOND_FACTOR_FAILURES`): a TOTP or backup code is guessed only by someone who already
//! holds the password (or a session or key of the user), and spreading those guesses over many
//! client addresses must not buy more of them. Once it is spent, every code of that user is
//! refused until the window ends, the right one too: checking it would tell which guess hit.
//! The cost, accepted: someone holding the password can lock the user's code step for a window.
//!
//! An attacker spreading guesses over N nodes gets at most N× each limit, which Argon2's cost
//! keeps small. Emails are canonical (the caller passes `Email`'s form).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Failures allowed per (email address, client address) in one window.
pub const MAX_FAILURES_PER_EMAIL: u32 = 5;
/// Failures allowed per email address from all client addresses together in one window.
pub const MAX_FAILURES_PER_EMAIL_ANYWHERE: u32 = 100;
/// Failures allowed per client address in one window.
pub const MAX_FAILURES_PER_IP: u32 = 20;
/// Wrong second-factor codes allowed per user from all client addresses together in one
/// window: against a TOTP code (three accepted among a million) about 3 in 100,000 per window.
pub const MAX_SECOND_FACTOR_FAILURES: u32 = 10;
pub const WINDOW_MINUTES: i64 = 15;
const MAX_TRACKED: usize = 100_000;

/// Failures counted for one key: how many, since when.
type Counts<K> = Mutex<HashMap<K, (u32, DateTime<Utc>)>>;

/// The sign-in throttle. One instance serves every place a password is proven (signing in,
/// accepting an invitation as an existing user, changing the password or the address), so
/// all of them draw on one budget per address: guessing through another form is no way
/// around the sign-in's limit.
#[derive(Default)]
pub struct LoginThrottle {
    by_pair: Counts<(String, Option<IpAddr>)>,
    by_email: Counts<String>,
    by_ip: Counts<IpAddr>,
    /// Wrong second-factor codes per user (their id), whatever the address.
    second_factor: Counts<String>,
}

fn blocked<K: std::hash::Hash + Eq>(
    map: &Mutex<HashMap<K, (u32, DateTime<Utc>)>>,
    key: &K,
    max: u32,
    now: DateTime<Utc>,
) -> Option<i64> {
    let map = map.lock().ok()?;
    let (count, since) = map.get(key)?;
    let ends = *since + Duration::minutes(WINDOW_MINUTES);
    (*count >= max && now < ends).then(|| (ends - now).num_seconds().max(1))
}

fn record<K: std::hash::Hash + Eq + Clone>(
    map: &Mutex<HashMap<K, (u32, DateTime<Utc>)>>,
    key: K,
    now: DateTime<Utc>,
) {
    if let Ok(mut map) = map.lock() {
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (_, since)| now - *since < Duration::minutes(WINDOW_MINUTES));
        }
        let entry = map.entry(key).or_insert((0, now));
        if now - entry.1 >= Duration::minutes(WINDOW_MINUTES) {
            *entry = (0, now);
        }
        entry.0 += 1;
    }
}

impl LoginThrottle {
    /// A password proof for `email` from `ip` at `now`, behind the throttle: `Err(seconds)`
    /// while blocked (then `check` does not run, so a blocked guess costs nothing and learns
    /// nothing), else what `check` says, counted as a failure or a success.
    pub fn prove(
        &self,
        email: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
        check: impl FnOnce() -> bool,
    ) -> Result<bool, i64> {
        if let Some(seconds) = self.retry_after(email, ip, now) {
            return Err(seconds);
        }
        let proven = check();
        if proven {
            self.succeeded(email, ip);
        } else {
            self.failed(email, ip, now);
        }
        Ok(proven)
    }

    /// Seconds until another attempt is allowed, if the email or the address is blocked.
    pub fn retry_after(&self, email: &str, ip: Option<IpAddr>, now: DateTime<Utc>) -> Option<i64> {
        let email = email.to_ascii_lowercase();
        let by_pair = blocked(
            &self.by_pair,
            &(email.clone(), ip),
            MAX_FAILURES_PER_EMAIL,
            now,
        );
        let by_email = blocked(&self.by_email, &email, MAX_FAILURES_PER_EMAIL_ANYWHERE, now);
        let by_ip = ip.and_then(|ip| blocked(&self.by_ip, &ip, MAX_FAILURES_PER_IP, now));
        by_pair.max(by_email).max(by_ip)
    }

    /// Counts a failed attempt for `email` from `ip`, in the windows of the pair, the address and
    /// the email.
    pub fn failed(&self, email: &str, ip: Option<IpAddr>, now: DateTime<Utc>) {
        let email = email.to_ascii_lowercase();
        record(&self.by_pair, (email.clone(), ip), now);
        record(&self.by_email, email, now);
        if let Some(ip) = ip {
            record(&self.by_ip, ip, now);
        }
    }

    /// Seconds until `user` may try a second-factor code again, if their budget of wrong codes
    /// (per user, from every address together) is spent.
    pub fn second_factor_retry_after(&self, user: &str, now: DateTime<Utc>) -> Option<i64> {
        blocked(
            &self.second_factor,
            &user.to_owned(),
            MAX_SECOND_FACTOR_FAILURES,
            now,
        )
    }

    /// A wrong second-factor code of `user`. A right one clears nothing: the user's own success
    /// must not give a guesser elsewhere a fresh budget.
    pub fn second_factor_failed(&self, user: &str, now: DateTime<Utc>) {
        record(&self.second_factor, user.to_owned(), now);
    }

    /// A successful sign-in clears its own (email, address) count; the counts of other
    /// addresses stay, so a success from one place does not reset a guess from another.
    pub fn succeeded(&self, email: &str, ip: Option<IpAddr>) {
        if let Ok(mut map) = self.by_pair.lock() {
            map.remove(&(email.to_ascii_lowercase(), ip));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_until_the_window_ends() {
        let t = LoginThrottle::default();
        let now = DateTime::from_timestamp(1_700_000_000, 0).expect("ts");
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        for _ in 0..MAX_FAILURES_PER_EMAIL {
            assert_eq!(t.retry_after("a@b.co", Some(ip), now), None);
            t.failed("a@b.co", Some(ip), now);
        }
        assert!(t
            .retry_after("A@B.CO", Some(ip), now)
            .is_some_and(|s| s <= WINDOW_MINUTES * 60));
        assert_eq!(t.retry_after("other@b.co", Some(ip), now), None);
        assert_eq!(
            t.retry_after("a@b.co", Some(ip), now + Duration::minutes(WINDOW_MINUTES)),
            None
        );
        t.succeeded("a@b.co", Some(ip));
        assert_eq!(t.retry_after("a@b.co", Some(ip), now), None);
    }

    /// Failing on purpose from one address does not lock the user out elsewhere; only failures
    /// from many addresses together reach the email's own budget.
    #[test]
    fn a_stranger_cannot_lock_a_user_out() {
        let t = LoginThrottle::default();
        let now = DateTime::from_timestamp(1_700_000_000, 0).expect("ts");
        let attacker: IpAddr = "192.0.2.66".parse().expect("ip");
        let user: IpAddr = "198.51.100.7".parse().expect("ip");
        for _ in 0..MAX_FAILURES_PER_IP {
            t.failed("victim@b.co", Some(attacker), now);
        }
        assert!(t.retry_after("victim@b.co", Some(attacker), now).is_some());
        assert_eq!(t.retry_after("victim@b.co", Some(user), now), None);
        // A distributed guess: enough addresses together reach the email's budget.
        let per_address = MAX_FAILURES_PER_EMAIL;
        let addresses = MAX_FAILURES_PER_EMAIL_ANYWHERE / per_address;
        for n in 0..addresses {
            let ip = IpAddr::from([10, 0, (n / 256) as u8, (n % 256) as u8]);
            for _ in 0..per_address {
                t.failed("spread@b.co", Some(ip), now);
            }
        }
        assert!(t.retry_after("spread@b.co", Some(user), now).is_some());
    }

    /// Wrong codes count per user from anywhere: the budget is spent whatever addresses they
    /// came from, binds that user only, and a new window opens it again.
    #[test]
    fn second_factor_guesses_have_one_budget_per_user() {
        let t = LoginThrottle::default();
        let now = DateTime::from_timestamp(1_700_000_000, 0).expect("ts");
        for n in 0..MAX_SECOND_FACTOR_FAILURES {
            assert_eq!(t.second_factor_retry_after("usr_a", now), None, "{n}");
            t.second_factor_failed("usr_a", now);
        }
        assert!(t
            .second_factor_retry_after("usr_a", now)
            .is_some_and(|s| s > 0 && s <= WINDOW_MINUTES * 60));
        assert_eq!(t.second_factor_retry_after("usr_b", now), None);
        // The password budgets are another matter: no address is blocked by codes alone.
        assert_eq!(t.retry_after("a@b.co", None, now), None);
        let later = now + Duration::minutes(WINDOW_MINUTES);
        assert_eq!(t.second_factor_retry_after("usr_a", later), None);
    }
}
