//! Passwords: Argon2id hashes computed off the async workers, a bounded number at a
//! time, and the first version's four password rules.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use argon2::password_hash::{self, rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};

type Permits = OnceLock<Arc<Semaphore>>;

/// Slots for CPU-heavy work, as many as `share` gives for this machine's cores.
fn permits(cell: &'static Permits, share: fn(usize) -> usize) -> Arc<Semaphore> {
    let cores = || std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    cell.get_or_init(|| Arc::new(Semaphore::new(share(cores()).max(1))))
        .clone()
}

/// Runs CPU-heavy password hashing on the blocking pool, a bounded number at a time.
/// Each hash takes ~19 MiB and a core for tens of milliseconds; running more at once
/// than there are cores only adds memory, so a burst of logins queues here.
pub async fn bounded<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    static HASHING: Permits = OnceLock::new();
    on_blocking_pool(permits(&HASHING, |cores| cores), work).await
}

/// Runs a password-strength estimate on the blocking pool. Estimates have slots of
/// their own, so that someone registering (or failing to) many times cannot make
/// everyone else's logins wait behind their estimates.
pub async fn estimating<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    static ESTIMATING: Permits = OnceLock::new();
    on_blocking_pool(permits(&ESTIMATING, |cores| cores / 2), work).await
}

async fn on_blocking_pool<T: Send + 'static>(
    permits: Arc<Semaphore>,
    work: impl FnOnce() -> T + Send + 'static,
) -> ApiResult<T> {
    // The permit travels with the work: a client that hangs up does not free a slot
    // while its hash is still being computed.
    let permit = permits
        .acquire_owned()
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    tokio::task::spawn_blocking(move || {
        let result = work();
        drop(permit);
        result
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))
}

fn argon2() -> Argon2<'static> {
    // Argon2id, 19 MiB, 2 passes, 1 lane: the OWASP baseline and the crate's default.
    Argon2::default()
}

/// Hashes a password with Argon2id off the async workers.
pub async fn hash_password(password: String) -> ApiResult<String> {
    bounded(move || hash_blocking(&password))
        .await?
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("hashing a password: {e}")))
}

/// Verifies a password off the async workers. With no stored hash (unknown email) a
/// dummy hash is checked instead, so both failures take about the same time.
pub async fn verify_password(stored_hash: Option<String>, password: String) -> ApiResult<bool> {
    bounded(move || match &stored_hash {
        Some(hash) => verify_blocking(hash, &password),
        None => {
            verify_blocking(dummy_hash(), &password);
            false
        }
    })
    .await
}

/// Computes the dummy hash now, so that the first unknown-email login costs what any
/// other login costs.
pub async fn prepare() {
    let _ = tokio::task::spawn_blocking(dummy_hash).await;
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("no member has this password").unwrap_or_default())
}

/// Argon2's working memory (19 MiB a hash), kept for reuse. At most one buffer per
/// hashing permit ever exists, so memory stays flat however many logins arrive; fresh
/// allocations per hash fragment the allocator's arenas until the process holds
/// hundreds of megabytes.
fn with_memory<T>(blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    static POOL: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());
    let reused = POOL.lock().unwrap_or_else(PoisonError::into_inner).pop();
    let mut buffer = match reused {
        Some(buffer) if buffer.len() >= blocks => buffer,
        _ => vec![Block::default(); blocks],
    };
    let result = work(&mut buffer[..blocks]);
    POOL.lock().unwrap_or_else(PoisonError::into_inner).push(buffer);
    result
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for a new password.
fn hash_blocking(password: &str) -> Result<String, password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_buffer)?;
    let hasher = argon2();
    let params = hasher.params().clone();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(params.block_count(), |blocks| {
        hasher.hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, blocks)
    })?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    };
    Ok(hash.to_string())
}

/// Whether a stored hash is not ours (a first version's hash, kept by the import) and
/// should be replaced with a new Argon2id hash once its password is known.
pub fn needs_rehash(stored: &str) -> bool {
    !stored.starts_with("$argon2id$")
}

/// The most PBKDF2 iterations a stored Django hash may ask for (Django 5.1 uses 870,000):
/// a hash is never a client's input, but a damaged row should not hold a thread for
/// minutes.
const MAX_DJANGO_ITERATIONS: u32 = 10_000_000;

/// Checks a password against Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`:
/// PBKDF2-HMAC-SHA256 over the salt's own characters. Anything else, including Django's
/// unusable passwords (`!…`), matches no password.
fn verify_django(stored: &str, password: &str) -> bool {
    use base64::Engine;
    let mut parts = stored.split('$');
    let (Some("pbkdf2_sha256"), Some(iterations), Some(salt), Some(hash), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(iterations) = iterations.parse::<u32>() else {
        return false;
    };
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(hash) else {
        return false;
    };
    if !(1..=MAX_DJANGO_ITERATIONS).contains(&iterations) || salt.is_empty() || !(16..=64).contains(&expected.len()) {
        return false;
    }
    let mut computed = vec![0u8; expected.len()];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut computed);
    // `Output` compares in constant time.
    matches!((Output::new(&computed), Output::new(&expected)), (Ok(a), Ok(b)) if a == b)
}

/// Checks a password against a stored PHC string, with that string's own parameters, or
/// against a first version's Django hash.
fn verify_blocking(stored: &str, password: &str) -> bool {
    if stored.starts_with("pbkdf2_sha256$") {
        return verify_django(stored, password);
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let mut salt_buffer = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buffer) else {
        return false;
    };
    let hasher = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    let computed = with_memory(params.block_count(), |blocks| {
        hasher.hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, blocks)
    });
    // `Output` compares in constant time.
    computed.is_ok() && Output::new(&out).is_ok_and(|out| out == expected)
}

/// How much of a password the strength estimator reads: its cost grows steeply with
/// length (a 128-character keyboard walk takes ~0.8 s), and a prefix this long that is
/// not weak makes the whole password not weak.
const ESTIMATED_PREFIX: usize = 32;

/// The first version's four password validators: length, numeric, common, similar.
/// Returns every failed rule's message.
pub fn password_problems(password: &str, user_inputs: &[&str]) -> Vec<String> {
    let mut problems = basic_password_problems(password);
    if password.chars().count() > MAX_PASSWORD {
        return problems;
    }
    problems.extend(estimated_password_problems(password, user_inputs));
    problems
}

/// The cheap rules: length and all-digits.
pub fn basic_password_problems(password: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        problems.push(format!(
            "This password is too short. It must contain at least {MIN_PASSWORD} characters."
        ));
    }
    if length > MAX_PASSWORD {
        // Long enough to be strong; the estimator's cost grows with length, so stop here.
        problems.push(format!(
            "This password is too long. It must contain at most {MAX_PASSWORD} characters."
        ));
        return problems;
    }
    if !password.is_empty() && password.chars().all(|c| c.is_ascii_digit()) {
        problems.push("This password is entirely numeric.".to_owned());
    }
    problems
}

/// The estimator's rules, common and similar, read on a bounded prefix.
fn estimated_password_problems(password: &str, user_inputs: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let estimated: String = password.chars().take(ESTIMATED_PREFIX).collect();
    // The member's details and their parts: "ada.lovelace@example.com" → "ada", "lovelace", …
    let inputs: Vec<String> = user_inputs
        .iter()
        .flat_map(|input| {
            let lower = input.to_lowercase();
            let mut parts: Vec<String> = lower
                .split(|c: char| !c.is_alphanumeric())
                .filter(|p| p.chars().count() >= 3)
                .map(str::to_owned)
                .collect();
            parts.push(lower);
            parts
        })
        .collect();
    let input_refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let common = zxcvbn::zxcvbn(&estimated, &[]).score() < zxcvbn::Score::Two;
    if common {
        problems.push("This password is too common.".to_owned());
    }
    // Similar: at least half of it is one of the member's details, or it is only weak
    // once those details are in the estimator's dictionary.
    let lower = password.to_lowercase();
    let length = lower.chars().count();
    let made_of_detail = inputs.iter().any(|part| {
        let n = part.chars().count();
        n >= 4 && n * 2 >= length && lower.contains(part.as_str())
    });
    let weak_with_details = !common && zxcvbn::zxcvbn(&estimated, &input_refs).score() < zxcvbn::Score::Two;
    if made_of_detail || weak_with_details {
        problems.push("The password is too similar to your username, name or email.".to_owned());
    }
    problems
}

const MIN_PASSWORD: usize = 8;
const MAX_PASSWORD: usize = 128;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimator_reads_a_bounded_prefix() {
        // Weak for its first 32 characters, strong as a whole: judged by the prefix,
        // which is what bounds the estimator's cost on long passwords.
        let password = format!("{}{}", "a".repeat(32), "q7#Lw!z9@Rk2$Vm5^Tx8&Hn3*Pd6(Jb");
        assert_eq!(password_problems(&password, &[]), vec!["This password is too common."]);
        assert!(password_problems("q7#Lw!z9@Rk2$Vm5^Tx8&Hn3", &[]).is_empty());
    }

    #[test]
    fn every_failed_rule_is_reported() {
        let problems = password_problems("1234567", &[]);
        assert!(problems.iter().any(|p| p.contains("too short")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("entirely numeric")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("too common")), "{problems:?}");
    }

    #[test]
    fn common_and_similar_passwords_are_refused() {
        assert!(password_problems("password", &[])
            .iter()
            .any(|p| p.contains("too common")));
        assert!(password_problems("qwertyuiop", &[])
            .iter()
            .any(|p| p.contains("too common")));
        let similar = password_problems("vangogh1853", &["vangogh1853", "vincent", "vincent@example.com"]);
        assert!(similar.iter().any(|p| p.contains("too similar")), "{similar:?}");
    }

    #[test]
    fn common_and_similar_are_both_reported() {
        let problems = password_problems("password", &["password", "ada@example.com"]);
        assert!(problems.iter().any(|p| p.contains("too common")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("too similar")), "{problems:?}");
    }

    #[test]
    fn over_long_passwords_are_refused_without_estimating() {
        let long = "a1!".repeat(1000);
        let started = std::time::Instant::now();
        let problems = password_problems(&long, &["ada"]);
        assert!(problems.iter().any(|p| p.contains("too long")));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(
            password_problems(&"Xq7#vB2!".repeat(16), &[]).is_empty(),
            "128 characters is fine"
        );
    }

    #[test]
    fn strong_passwords_pass() {
        assert!(password_problems("violet-harbour-lantern-42", &["ada", "ada@example.com"]).is_empty());
        assert!(password_problems("Tr1cky!Cobalt#Moth", &[]).is_empty());
    }

    #[test]
    fn hashes_interoperate_with_the_standard_phc_implementation() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash_blocking("copper-meadow-falcon-77").unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{ours}");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"copper-meadow-falcon-77", &parsed)
            .is_ok());
        assert!(verify_blocking(&ours, "copper-meadow-falcon-77"));
        assert!(!verify_blocking(&ours, "copper-meadow-falcon-78"));

        let salt = SaltString::generate(&mut OsRng);
        let standard = Argon2::default().hash_password(b"violet", &salt).unwrap().to_string();
        assert!(verify_blocking(&standard, "violet"));
        assert!(!verify_blocking(&standard, "Violet"));
        let cheaper = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).unwrap(),
        )
        .hash_password(b"violet", &salt)
        .unwrap()
        .to_string();
        assert!(
            verify_blocking(&cheaper, "violet"),
            "a stored hash's own parameters are used"
        );
        // Made by Django 5.1.4: PBKDF2PasswordHasher().encode("short-pass-1", "saltsaltsalt",
        // iterations=1000).
        let django = "pbkdf2_sha256$1000$saltsaltsalt$rDOJd8yUgGjGggFp+7SK20R2kHl+mZYsrS2kV/tE9es=";
        assert!(verify_blocking(django, "short-pass-1"));
        assert!(!verify_blocking(django, "short-pass-2"));
        assert!(needs_rehash(django) && !needs_rehash(&ours));
        for broken in [
            "",
            "plain",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$bcrypt$x",
            "!unusable",
            "pbkdf2_sha256$0$salt$AAAA",
            "pbkdf2_sha256$x$salt$AAAA",
            "pbkdf2_sha256$1000$salt$not base64",
            "pbkdf2_sha256$1000$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "pbkdf2_sha256$99999999$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ] {
            assert!(!verify_blocking(broken, "violet"));
        }
    }
}
