//! Memory of a running process, from `/proc/<pid>/status`.

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

pub const MB: f64 = 1024.0 * 1024.0;
