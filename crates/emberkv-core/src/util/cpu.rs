//! CPU lists (`server_cpulist`, `bio_cpulist`: Redis's `0-3,8,10-14:2`
//! syntax) and pinning a thread to one.

use tracing::warn;

/// `server_cpulist 0-3,8-11` / `1,3` / `0-7:2`: the CPUs a thread may run on.
pub fn parse_cpulist(s: &str) -> Option<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        let (range, step) = match part.split_once(':') {
            Some((r, st)) => (r, st.parse::<usize>().ok().filter(|&x| x > 0)?),
            None => (part, 1),
        };
        let (a, b) = match range.split_once('-') {
            Some((a, b)) => (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?),
            None => {
                let a = range.parse::<usize>().ok()?;
                (a, a)
            }
        };
        if a > b || b >= 1024 {
            return None;
        }
        cpus.extend((a..=b).step_by(step));
    }
    Some(cpus)
}

/// Pins the calling thread to the CPUs of a `*_cpulist` value ("" = any).
pub fn pin_thread(list: &str) {
    if list.is_empty() {
        return;
    }
    let Some(cpus) = parse_cpulist(list).filter(|c| !c.is_empty()) else {
        warn!(list, "invalid CPU list: thread not pinned");
        return;
    };
    // SAFETY: a zeroed cpu_set_t filled with CPU_SET, passed by pointer.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for c in cpus {
            libc::CPU_SET(c, &mut set);
        }
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            warn!(list, error = %std::io::Error::last_os_error(), "could not pin thread");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpulists() {
        assert_eq!(parse_cpulist("0-3"), Some(vec![0, 1, 2, 3]));
        assert_eq!(parse_cpulist("1,3"), Some(vec![1, 3]));
        assert_eq!(parse_cpulist("0-6:2"), Some(vec![0, 2, 4, 6]));
        assert_eq!(parse_cpulist("3-1"), None);
    }
}
