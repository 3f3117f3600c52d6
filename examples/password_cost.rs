//! The worst cost of a password-strength estimate: random and keyboard-walk passwords up
//! to the longest accepted (128 characters), each estimated as registration does. The
//! target is 50 ms; the estimator reads a 32-character prefix, so length cannot raise it.
//!
//! Usage: cargo run --release --example password_cost

use std::time::{Duration, Instant};

fn main() {
    use rand::Rng;
    // The estimator's dictionaries load on first use; that is start-up, not a request.
    let _ = openstudio::passwords::password_problems("warm-up-warm-up", &[]);
    let symbols: Vec<char> = "!@#$%^&*()_+-=[]{};':,./<>?`~|\\1234567890qwertyuiopasdfghjklzxcvbnm"
        .chars()
        .collect();
    let walk = "`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./~!@#$%^&*()_+";
    let details = ["someone@example.com", "someone", "Ada", "Lovelace"];
    let mut rng = rand::thread_rng();
    let mut worst = Duration::ZERO;
    for length in [16usize, 32, 64, 128] {
        let mut candidates: Vec<String> = (0..20)
            .map(|_| (0..length).map(|_| symbols[rng.gen_range(0..symbols.len())]).collect())
            .collect();
        candidates.push(walk.chars().cycle().take(length).collect());
        for password in &candidates {
            let started = Instant::now();
            let _ = openstudio::passwords::password_problems(password, &details);
            worst = worst.max(started.elapsed());
        }
        println!(
            "{length:>3} characters: worst so far {:.1} ms",
            worst.as_secs_f64() * 1000.0
        );
    }
}
