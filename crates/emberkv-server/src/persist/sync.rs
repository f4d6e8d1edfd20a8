//! A file written front to back whose pages go to the disk while it grows
//! (`rdb-save-incremental-fsync`, as Redis's): every 4 MiB the writeback
//! of the new range is started, and the range started the time before
//! (which has had a whole step of serializing to get there) is waited
//! for. The fsync at the end then finds little left to write: with one
//! fsync at the end only, a collection SAVE spent a sixth of its time
//! waiting for the disk.

use std::fs::File;
use std::io::{self, Write};

/// Bytes between two writeback starts (Redis's REDIS_AUTOSYNC_BYTES).
const STEP: u64 = 4 << 20;

pub struct SyncingFile {
    file: File,
    incremental: bool,
    written: u64,
    /// Writeback was started for `..started` and waited for `..waited`.
    started: u64,
    waited: u64,
}

impl SyncingFile {
    pub fn new(file: File, incremental: bool) -> Self {
        SyncingFile {
            file,
            incremental,
            written: 0,
            started: 0,
            waited: 0,
        }
    }

    pub fn into_inner(self) -> File {
        self.file
    }

    #[cfg(target_os = "linux")]
    fn step(&mut self) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let fd = self.file.as_raw_fd();
        let range = |from: u64, to: u64, flags: libc::c_uint| -> io::Result<()> {
            // SAFETY: a plain syscall on a descriptor this value owns.
            let r = unsafe { libc::sync_file_range(fd, from as i64, (to - from) as i64, flags) };
            if r == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        };
        let r = (|| {
            if self.waited < self.started {
                range(
                    self.waited,
                    self.started,
                    libc::SYNC_FILE_RANGE_WAIT_BEFORE
                        | libc::SYNC_FILE_RANGE_WRITE
                        | libc::SYNC_FILE_RANGE_WAIT_AFTER,
                )?;
            }
            range(self.started, self.written, libc::SYNC_FILE_RANGE_WRITE)
        })();
        match r {
            Ok(()) => {
                self.waited = self.started;
                self.started = self.written;
                Ok(())
            }
            // A file system without the call (or a descriptor it does not
            // apply to): the fsync at the end still makes the file
            // durable, so the save goes on without the early writeback.
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ENOSYS | libc::EINVAL | libc::ESPIPE)
                ) =>
            {
                self.incremental = false;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Elsewhere the fsync at the end does it all.
    #[cfg(not(target_os = "linux"))]
    fn step(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for SyncingFile {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let n = self.file.write(b)?;
        self.written += n as u64;
        if self.incremental && self.written - self.started >= STEP {
            self.step()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}
