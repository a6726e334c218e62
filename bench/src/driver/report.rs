//! Figures 2 and 4 (sizes) and the closing table: criterion's medians read
//! from its output folder, binary and zip sizes, and the ratios the issue's
//! targets are stated in, computed from figures of the same run.

use std::path::Path;

use bench::figures::{self, emit, Figure};

/// Each benchmark's median from `<criterion home>/**/new/{benchmark,estimates}.json`,
/// as `<prefix>.<benchmark id>`.
pub fn criterion(home: &Path, prefix: &str) -> Result<(), String> {
    let mut found = Vec::new();
    collect(home, &mut found);
    if found.is_empty() {
        return Err(format!("no criterion results under {}", home.display()));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    for (id, median_ns) in found {
        emit(format!("{prefix}.{}", id.replace('/', ".")), median_ns / 1e3, "µs median, in-process");
    }
    Ok(())
}

fn collect(dir: &Path, found: &mut Vec<(String, f64)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            let read = |file: &str| -> Option<serde_json::Value> {
                serde_json::from_str(&std::fs::read_to_string(path.join(file)).ok()?).ok()
            };
            if let (Some(benchmark), Some(estimates)) = (read("benchmark.json"), read("estimates.json")) {
                if let (Some(id), Some(median)) =
                    (benchmark["full_id"].as_str(), estimates["median"]["point_estimate"].as_f64())
                {
                    found.push((id.to_owned(), median));
                }
            }
        } else {
            collect(&path, found);
        }
    }
}

pub fn sizes(bin_dir: &Path, binaries: &[&str], zips: &Path) -> Result<(), String> {
    for name in binaries {
        let path = bin_dir.join(name);
        let bytes = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?.len();
        emit(format!("size.{name}"), bytes as f64 / 1e6, &format!("MB, {}", bin_dir.display()));
    }
    for name in ["send-sms", "check-mobile", "register", "login"] {
        let path = zips.join(name).join("bootstrap.zip");
        if let Ok(meta) = std::fs::metadata(&path) {
            emit(format!("size.{name}.zip"), meta.len() as f64 / 1e6, "MB, cargo lambda arm64 zip (target < 3)");
        }
    }
    Ok(())
}

/// The ratios of the targets, from this run's figures.
pub fn derived(all: &[Figure]) -> Vec<Figure> {
    let get = |name: &str| all.iter().find(|f| f.figure == name).and_then(|f| f.value);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let mut out = Vec::new();
    let mut add = |name: &str, value: Option<f64>, unit: &str| {
        if let Some(v) = value {
            out.push(emit(format!("derived.{name}"), v, unit));
        }
    };
    let ratio = |a: Option<f64>, b: Option<f64>| Some(a? / b?);
    let minus = |a: Option<f64>, b: Option<f64>| Some(a? - b?);
    let hash = get("warm.argon2.hash");
    let verify = get("warm.argon2.verify");
    let minimal = get("warm.argon2.minimal_hash");
    for route in ["register", "login"] {
        add(
            &format!("{route}_without_argon2"),
            minus(get(&format!("warm.route_without_argon2.{route}")), minimal),
            "µs: the route with argon2 at its lowest cost, less that hash",
        );
    }
    // What the cores can hash: `cores` hashes at once compete for the cache
    // and memory bandwidth, so each is slower than one alone. The bound is
    // `cores` ÷ the wall time of such a round, measured right before the
    // hashing scenarios (`bound.*`: this machine's speed drifts by more than
    // the target's margin over minutes), else earlier in the run (`warm.*`),
    // else `cores` ÷ one hash alone; the one-at-a-time bound is printed beside it.
    let per_s = |us: Option<f64>| us.map(|us| cores * 1e6 / us);
    let when = match get("bound.argon2.hash_all_cores") {
        Some(_) => ", measured right before the hashing scenarios",
        None => "",
    };
    let at_once = |what: &str| format!("{what}/s = {cores} cores ÷ time for {cores} {what} at once{when}");
    let alone = |what: &str, median: &str| format!("{what}/s = {cores} cores ÷ {median} median, one at a time");
    let (hash_alone, verify_alone) = (per_s(hash), per_s(verify));
    let round = |name: &str| get(&format!("bound.argon2.{name}")).or_else(|| get(&format!("warm.argon2.{name}")));
    let hash_all = per_s(round("hash_all_cores"));
    let verify_all = per_s(round("verify_all_cores"));
    let hash_bound = hash_all.or(hash_alone);
    let verify_bound = verify_all.or(verify_alone);
    let hash_unit = if hash_all.is_some() { at_once("hashes") } else { alone("hashes", "hash") };
    let verify_unit = if verify_all.is_some() { at_once("verifies") } else { alone("verifies", "verify") };
    add("argon2_hash_bound", hash_bound, &hash_unit);
    add("argon2_verify_bound", verify_bound, &verify_unit);
    add("argon2_hash_bound_one_at_a_time", hash_alone, &alone("hashes", "hash"));
    add("argon2_verify_bound_one_at_a_time", verify_alone, &alone("verifies", "verify"));
    // Against a bound measured before the scenario, a slow or fast phase of
    // the machine in between moves the ratio by more than the target's
    // margin; the targets are read in the scenario's own seconds below.
    let in_scenario = get("throughput.login.hash_cpu").is_some();
    let before = |what: &str| {
        if in_scenario {
            format!("{what} measured before it (the target is read in the scenario, below)")
        } else {
            format!("{what} (target ≥ 0.95)")
        }
    };
    add("login_of_bound", ratio(get("throughput.login.rps"), verify_bound), &before("login req/s ÷ verify bound"));
    add(
        "register_flow_of_bound",
        ratio(get("throughput.register_flow.rps"), hash_bound),
        &before("flows/s ÷ hash bound"),
    );
    // The bound in the scenario's own seconds: `cores` ÷ the CPU time one
    // hash took on the local API's hashing threads while the scenario ran.
    // The ratio is the share of the cores' time the service spent hashing:
    // work elsewhere (the rest of the service, wrk, the machine) keeps it
    // under 1, while work that slows each hash (two hashes sharing the cache
    // and memory bandwidth, caches the other work cooled) lengthens the hash
    // time instead, as in the all-cores bound. How much longer than alone is
    // printed beside it.
    for (scenario, what, alone) in [("login", "verifies", verify), ("register_flow", "hashes", hash)] {
        let hash_cpu = get(&format!("throughput.{scenario}.hash_cpu"));
        let bound = per_s(hash_cpu);
        let unit = format!("{what}/s = {cores} cores ÷ the CPU time of one on the hashing threads during {scenario}");
        add(&format!("argon2_bound_in_scenario.{scenario}"), bound, &unit);
        add(
            &format!("{scenario}_of_bound_in_scenario"),
            ratio(get(&format!("throughput.{scenario}.rps")), bound),
            "share of the cores' time spent hashing (target ≥ 0.95)",
        );
        add(
            &format!("argon2_in_scenario_of_alone.{scenario}"),
            ratio(hash_cpu, alone),
            &format!("{scenario}'s CPU a hash ÷ one alone in-process (warm.argon2)"),
        );
    }
    let floor_rps = get("throughput.floor.rps");
    let floor_p99 = get("throughput.floor.p99");
    add(
        "check_mobile_of_floor",
        ratio(get("throughput.check_mobile_free.rps"), floor_rps),
        "req/s ÷ floor's (target ≥ 0.5)",
    );
    add(
        "check_mobile_p99_of_floor",
        ratio(get("throughput.check_mobile_free.p99"), floor_p99),
        "p99 ÷ floor's (target ≤ 1)",
    );
    // Send against the floor it alternated with, else the run's one floor.
    let (floor_rps, floor_p99, whose) = match get("throughput.floor_beside_send.rps") {
        Some(rps) => (Some(rps), get("throughput.floor_beside_send.p99"), "floor's, in rounds taken in turn"),
        None => (floor_rps, floor_p99, "floor's"),
    };
    add("send_of_floor", ratio(get("throughput.send.rps"), floor_rps), &format!("req/s ÷ {whose} (target ≥ 0.4)"));
    add("send_p99_of_floor", ratio(get("throughput.send.p99"), floor_p99), &format!("p99 ÷ {whose} (target ≤ 2)"));
    add(
        "login_p99_of_django",
        ratio(get("throughput.login.p99"), get("throughput.django.login.p99")),
        "login p99 ÷ the Django peer's (target ≤ 1)",
    );
    for (ours, unit) in [("check_mobile_free.rps", "req/s"), ("send.rps", "req/s"), ("login.rps", "req/s")] {
        let name = format!("{}_of_django", ours.trim_end_matches(".rps"));
        let value = ratio(get(&format!("throughput.{ours}")), get(&format!("throughput.django.{ours}")));
        add(&name, value, &format!("{unit} ÷ the Django peer's"));
    }
    add(
        "register_flow_of_django",
        ratio(get("throughput.register_flow.rps"), get("throughput.django.register_flow.rps")),
        "flows/s ÷ the Django peer's",
    );
    // check-mobile reads no secret; the others read theirs from Secrets
    // Manager at init, as the probe does when given one.
    for (function, probe) in [
        ("send-sms", "probe_secret"),
        ("check-mobile", "probe"),
        ("register", "probe_secret"),
        ("login", "probe_secret"),
    ] {
        let cold = ratio(get(&format!("cold_start.{function}.median")), get(&format!("cold_start.{probe}.median")));
        add(&format!("cold_start_of_probe.{function}"), cold, &format!("median ÷ {probe}'s (target ≤ 1.2)"));
    }
    let login_first = get("first_response.login.median");
    let plus = |a: Option<f64>, b: Option<f64>| Some(a? + b?);
    let register_first_plus_hash = plus(get("first_response.register.median"), hash.map(|us| us / 1000.0));
    add("first_login_of_register_plus_hash", ratio(login_first, register_first_plus_hash), "target ≤ 1.2");
    add(
        "check_mobile_size_of_probe",
        ratio(get("size.check-mobile"), get("size.probe")),
        "stripped size ÷ probe's (target ≤ 1.1)",
    );
    for route in ["scale_check_mobile", "scale_login"] {
        let values: Vec<f64> =
            ["1000", "100000", "1000000"].iter().filter_map(|n| get(&format!("warm.{route}.{n}"))).collect();
        if values.len() > 1 {
            let (min, max) = values.iter().fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
            add(&format!("{route}_spread"), Some(max / min), "slowest ÷ fastest store size (target ≤ 1.2)");
        }
    }
    out
}

/// Prints the derived ratios as figures, then the whole table.
pub fn table(figures_file: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(figures_file).map_err(|e| format!("{}: {e}", figures_file.display()))?;
    let mut all = figures::parse_lines(&text);
    let derived = derived(&all);
    all.extend(derived);
    println!();
    print!("{}", figures::table(&all));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(name: &str, value: f64) -> Figure {
        Figure { figure: name.to_owned(), value: Some(value), unit: String::new() }
    }

    fn send_of_floor(figures: &[Figure]) -> (f64, String) {
        let derived = derived(figures);
        let found = derived.iter().find(|f| f.figure == "derived.send_of_floor").expect("send_of_floor");
        (found.value.expect("a value"), found.unit.clone())
    }

    #[test]
    fn send_is_divided_by_the_floor_it_alternated_with_when_there_is_one() {
        let mut figures = vec![
            figure("throughput.floor.rps", 100_000.0),
            figure("throughput.floor.p99", 4.0),
            figure("throughput.send.rps", 45_000.0),
            figure("throughput.send.p99", 3.0),
        ];
        let (alone, unit) = send_of_floor(&figures);
        assert!((alone - 0.45).abs() < 1e-9 && !unit.contains("in turn"), "{alone} {unit}");
        figures.push(figure("throughput.floor_beside_send.rps", 112_500.0));
        figures.push(figure("throughput.floor_beside_send.p99", 1.5));
        let (in_turn, unit) = send_of_floor(&figures);
        assert!((in_turn - 0.4).abs() < 1e-9 && unit.contains("in turn"), "{in_turn} {unit}");
        let p99 = derived(&figures).into_iter().find(|f| f.figure == "derived.send_p99_of_floor").unwrap();
        assert_eq!(p99.value, Some(2.0));
    }

    #[test]
    fn login_is_read_against_the_hash_time_of_its_own_seconds_when_measured() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let mut figures =
            vec![figure("bound.argon2.verify_all_cores", 20_000.0), figure("throughput.login.rps", 0.9 * cores * 50.0)];
        let find = |figures: &[Figure], name: &str| derived(figures).into_iter().find(|f| f.figure == name);
        let before = find(&figures, "derived.login_of_bound").expect("the ratio to the bound before");
        assert!((before.value.unwrap() - 0.9).abs() < 1e-9 && before.unit.contains("target"), "{before:?}");
        assert!(find(&figures, "derived.login_of_bound_in_scenario").is_none());

        // Each verify took 16 ms of CPU under the load: the bound is cores ÷ 16 ms.
        figures.push(figure("throughput.login.hash_cpu", 16_000.0));
        let bound = find(&figures, "derived.argon2_bound_in_scenario.login").expect("the bound in the scenario");
        assert!((bound.value.unwrap() - cores / 0.016).abs() < 1e-6, "{bound:?}");
        let share = find(&figures, "derived.login_of_bound_in_scenario").expect("the share spent hashing");
        assert!((share.value.unwrap() - 0.9 * 50.0 * 0.016).abs() < 1e-9, "{share:?}");
        assert!(share.unit.contains("target ≥ 0.95"), "{share:?}");
        let before = find(&figures, "derived.login_of_bound").unwrap();
        assert!(before.unit.contains("read in the scenario"), "{before:?}");
        assert!(find(&figures, "derived.argon2_in_scenario_of_alone.login").is_none(), "no verify alone measured");
        figures.push(figure("warm.argon2.verify", 12_800.0));
        let slower = find(&figures, "derived.argon2_in_scenario_of_alone.login").expect("against one alone");
        assert!((slower.value.unwrap() - 1.25).abs() < 1e-9, "{slower:?}");
    }
}
