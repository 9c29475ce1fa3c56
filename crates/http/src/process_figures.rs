//! The process's own figures for `/metrics` (`process_*`, the names Prometheus client libraries
//! use, so dashboards made for them work): CPU time, resident memory, open file descriptors and
//! start time, read from `/proc` at scrape time. Elsewhere than on Linux there is no `/proc`, and
//! the series are left out rather than reported as zero (a zero would read as a real value).

/// Clock ticks per second of `/proc/<pid>/stat`'s times (`USER_HZ`). The kernel fixes it at 100
/// for user space on every architecture it supports; `sysconf(_SC_CLK_TCK)` would need `unsafe`
/// FFI, which the workspace forbids, to read the same constant.
const USER_HZ: f64 = 100.0;

/// What `/metrics` reports about the process.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ProcessFigures {
    /// User and system CPU time, in seconds.
    pub cpu_seconds: f64,
    pub resident_memory_bytes: u64,
    pub open_fds: u64,
    /// When the process started, in seconds since the Unix epoch.
    pub start_time_seconds: f64,
}

impl ProcessFigures {
    /// Reads this process's figures; `None` where `/proc` is not there or not readable.
    pub fn read() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let system = std::fs::read_to_string("/proc/stat").ok()?;
        let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
        let mut figures = parse(&stat, &status, &system)?;
        // The directory handle that listed `fd` was one of the entries.
        figures.open_fds = open_fds.saturating_sub(1);
        Some(figures)
    }
}

/// The figures in the text of `/proc/self/stat`, `/proc/self/status` and `/proc/stat` (all but
/// the open descriptors, which are a directory's entries).
fn parse(stat: &str, status: &str, system: &str) -> Option<ProcessFigures> {
    // The command name (field 2) is in parentheses and may hold spaces and `)`: the fields
    // that follow start after the last `)`, with field 3 (the state) first.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| -> Option<u64> { fields.get(n.checked_sub(3)?)?.parse().ok() };
    let (utime, stime, start_ticks) = (field(14)?, field(15)?, field(22)?);
    // `VmRSS` in kB rather than `statm`'s pages: the page size is not 4 KiB everywhere.
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let boot_time: u64 = system
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(ProcessFigures {
        cpu_seconds: (utime + stime) as f64 / USER_HZ,
        resident_memory_bytes: rss_kb * 1024,
        open_fds: 0,
        start_time_seconds: boot_time as f64 + start_ticks as f64 / USER_HZ,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_come_from_the_documented_fields() {
        // A command name with a space and a parenthesis, as a process may choose.
        let stat = "4242 (ten ant)ry) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 75 0 0 20 0 9 0 123456 99999 2000 18446744073709551615";
        let status = "Name:\ttenantry\nVmPeak:\t  90000 kB\nVmRSS:\t   20480 kB\nThreads:\t9\n";
        let system = "cpu  1 2 3 4\nbtime 1765000000\nprocesses 100\n";
        let f = parse(stat, status, system).expect("parsed");
        assert_eq!(f.cpu_seconds, 3.25);
        assert_eq!(f.resident_memory_bytes, 20 * 1024 * 1024);
        assert_eq!(f.start_time_seconds, 1_765_000_000.0 + 1234.56);
    }

    #[test]
    fn text_without_the_fields_gives_nothing() {
        assert_eq!(parse("", "", ""), None);
        assert_eq!(parse("1 (x) S 1", "VmRSS: 1 kB", "btime 1"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_reads_its_own_figures() {
        let f = ProcessFigures::read().expect("/proc on Linux");
        assert!(f.resident_memory_bytes > 0);
        assert!(f.open_fds >= 3, "stdin, stdout, stderr at least: {f:?}");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs_f64();
        assert!(
            f.start_time_seconds <= now + 1.0 && f.start_time_seconds > now - 3600.0,
            "{f:?}"
        );
    }
}
