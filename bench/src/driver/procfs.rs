//! Memory of a running process, from `/proc/<pid>/status`, and the CPU
//! time of its threads, from `/proc/<pid>/task/*/schedstat`.

/// Peak (`VmHWM`) and current (`VmRSS`) resident set, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub peak: u64,
    pub now: u64,
}

pub fn memory(pid: u32) -> Result<Memory, String> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    let field = |name: &str| -> Result<u64, String> {
        let line = status.lines().find(|l| l.starts_with(name)).ok_or(format!("no {name} for pid {pid}"))?;
        let kib: u64 =
            line[name.len()..].trim().trim_end_matches("kB").trim().parse().map_err(|e| format!("{line}: {e}"))?;
        Ok(kib * 1024)
    };
    Ok(Memory { peak: field("VmHWM:")?, now: field("VmRSS:")? })
}

/// The threads of a process that bear one name, and the CPU time they have
/// run so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadsCpu {
    pub threads: usize,
    pub ns: u64,
}

/// The threads of `pid` named `name` (as `comm` shows it: the first 15
/// bytes), and the nanoseconds they have run: the first field of each one's
/// `schedstat` (time on a CPU, user and system; for a thread on a CPU at the
/// moment of reading, as of its last tick or switch). A thread that has
/// ended counts no more, so this suits threads that live as long as the
/// process, as the hashing threads do.
pub fn threads_cpu(pid: u32, name: &str) -> Result<ThreadsCpu, String> {
    let tasks = format!("/proc/{pid}/task");
    let entries = std::fs::read_dir(&tasks).map_err(|e| format!("{tasks}: {e}"))?;
    let mut found = ThreadsCpu { threads: 0, ns: 0 };
    for entry in entries {
        let dir = entry.map_err(|e| format!("{tasks}: {e}"))?.path();
        // A thread that ended between the listing and the read counts nothing.
        let Ok(comm) = std::fs::read_to_string(dir.join("comm")) else { continue };
        if comm.trim_end() != name {
            continue;
        }
        let path = dir.join("schedstat");
        let Ok(schedstat) = std::fs::read_to_string(&path) else { continue };
        found.ns += on_cpu_ns(&schedstat).ok_or_else(|| format!("{}: unexpected {schedstat:?}", path.display()))?;
        found.threads += 1;
    }
    Ok(found)
}

/// `schedstat`'s first field: nanoseconds on a CPU.
fn on_cpu_ns(schedstat: &str) -> Option<u64> {
    schedstat.split_whitespace().next()?.parse().ok()
}

pub const MB: f64 = 1024.0 * 1024.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedstat_gives_nanoseconds_on_a_cpu() {
        assert_eq!(on_cpu_ns("15490612345 20310 1188\n"), Some(15_490_612_345));
        assert_eq!(on_cpu_ns(""), None);
        assert_eq!(on_cpu_ns("n/a 1 2"), None);
    }

    #[test]
    fn the_cpu_of_named_threads_grows_while_they_run_and_others_are_not_counted() {
        let pid = std::process::id();
        let name = "procfs-spin";
        let before = threads_cpu(pid, name).expect("this process's threads");
        assert_eq!(before, ThreadsCpu { threads: 0, ns: 0 }, "no thread of that name yet");
        let spinner = std::thread::Builder::new()
            .name(name.into())
            .spawn(|| {
                let started = std::time::Instant::now();
                let mut n = 0u64;
                while started.elapsed() < std::time::Duration::from_millis(50) {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
                n
            })
            .expect("a thread");
        std::thread::sleep(std::time::Duration::from_millis(20));
        let during = threads_cpu(pid, name).expect("this process's threads");
        spinner.join().expect("the spinner ends");
        assert_eq!(during.threads, 1, "{during:?}");
        assert!(during.ns > 0, "a spinning thread has run: {during:?}");
        let none = threads_cpu(pid, "no-such-thread").expect("this process's threads");
        assert_eq!(none, ThreadsCpu { threads: 0, ns: 0 });
    }
}
