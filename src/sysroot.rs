//! `--sysroot DIR`: the folder a dynamically linked program's interpreter and libraries
//! come from, which the guest sees at `/`.
//!
//! The kernel's loader reads the interpreter a program names (`PT_INTERP`, e.g.
//! `/lib/ld-linux-riscv64-lp64d.so.1`) from inside DIR before the run starts, resolving the
//! path as the guest would see it: every symbolic link on the way is followed inside DIR
//! (an absolute target starts again at DIR, `..` stops at DIR), so a sysroot whose `lib`
//! links elsewhere in it works as it does for the guest.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The most symbolic links one resolution follows (Linux's `MAXSYMLINKS`).
const MAX_LINKS: u32 = 40;

/// Checks that `dir` is a folder, for `--sysroot`.
pub fn check_dir(dir: &Path) -> Result<(), String> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(format!(
            "--sysroot {}: not a folder; give the folder that holds the interpreter and the libraries (e.g. /usr/riscv64-linux-gnu)",
            dir.display()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "--sysroot {}: no such folder; give the folder that holds the interpreter and the libraries (e.g. /usr/riscv64-linux-gnu)",
            dir.display()
        )),
        Err(e) => Err(format!("--sysroot {}: cannot read it: {e}", dir.display())),
    }
}

/// The host path of the guest path `guest` inside `root` (the guest's `/`), following
/// symbolic links inside `root`. `who` names the program that asks for it, in errors.
pub fn resolve(root: &Path, guest: &str, who: &str) -> Result<PathBuf, String> {
    let shown = |inside: &[OsString]| {
        let mut p = root.to_path_buf();
        p.extend(inside);
        p.display().to_string()
    };
    let missing = |inside: &[OsString]| {
        format!(
            "{who}: its interpreter {guest} is not in the sysroot {} (looked at {}); give --sysroot the folder that holds it (e.g. /usr/riscv64-linux-gnu)",
            root.display(),
            shown(inside)
        )
    };
    // What is left to resolve, last component first.
    let mut todo: Vec<OsString> = components(Path::new(guest));
    todo.reverse();
    let mut at: Vec<OsString> = Vec::new();
    let mut links = 0;
    while let Some(c) = todo.pop() {
        if c == "." {
            continue;
        }
        if c == ".." {
            at.pop();
            continue;
        }
        at.push(c);
        let here = {
            let mut p = root.to_path_buf();
            p.extend(&at);
            p
        };
        let meta = match std::fs::symlink_metadata(&here) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                at.extend(todo.into_iter().rev());
                return Err(missing(&at));
            }
            Err(e) => return Err(format!("{who}: cannot read {}: {e}", here.display())),
        };
        if meta.file_type().is_symlink() {
            links += 1;
            if links > MAX_LINKS {
                return Err(format!(
                    "{who}: its interpreter {guest}: more than {MAX_LINKS} symbolic links in the sysroot {} (a loop?)",
                    root.display()
                ));
            }
            let target = std::fs::read_link(&here)
                .map_err(|e| format!("{who}: cannot read the link {}: {e}", here.display()))?;
            at.pop();
            if target.is_absolute() {
                at.clear();
            }
            let mut more = components(&target);
            more.reverse();
            todo.extend(more);
        } else if !todo.is_empty() && !meta.is_dir() {
            at.extend(todo.into_iter().rev());
            return Err(missing(&at));
        }
    }
    let mut path = root.to_path_buf();
    path.extend(&at);
    if !path.is_file() {
        return Err(format!(
            "{who}: its interpreter {guest} is not a file in the sysroot {} (looked at {})",
            root.display(),
            path.display()
        ));
    }
    Ok(path)
}

/// The names of `p`'s components, without the root.
fn components(p: &Path) -> Vec<OsString> {
    use std::path::Component;
    p.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::CurDir => Some(".".into()),
            Component::ParentDir => Some("..".into()),
            Component::RootDir | Component::Prefix(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder under the system's temporary folder, removed when dropped.
    struct Temp(PathBuf);

    impl Temp {
        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Temp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn tree() -> Temp {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let d =
            Temp(std::env::temp_dir().join(format!("vmlab-sysroot-{}-{n}", std::process::id())));
        let _ = std::fs::remove_dir_all(d.path());
        let r = d.path();
        std::fs::create_dir_all(r.join("usr/lib/riscv64")).unwrap();
        std::fs::write(r.join("usr/lib/riscv64/ld-2.36.so"), b"\x7fELF").unwrap();
        std::os::unix::fs::symlink("usr/lib", r.join("lib")).unwrap();
        // An absolute target is relative to the sysroot, not the host's /.
        std::os::unix::fs::symlink("/usr/lib/riscv64/ld-2.36.so", r.join("usr/lib/ld.so.1"))
            .unwrap();
        std::os::unix::fs::symlink(
            "../../../../../usr/lib/riscv64/ld-2.36.so",
            r.join("usr/up"),
        )
        .unwrap();
        std::os::unix::fs::symlink("loop", r.join("loop")).unwrap();
        d
    }

    #[test]
    fn links_resolve_inside_the_sysroot() {
        let d = tree();
        let r = d.path();
        let want = r.join("usr/lib/riscv64/ld-2.36.so");
        assert_eq!(resolve(r, "/lib/ld.so.1", "p").unwrap(), want);
        assert_eq!(resolve(r, "/usr/up", "p").unwrap(), want);
        assert_eq!(
            resolve(r, "/lib/riscv64/./../riscv64/ld-2.36.so", "p").unwrap(),
            want
        );
    }

    #[test]
    fn errors_name_the_path_looked_at() {
        let d = tree();
        let r = d.path();
        let e = resolve(r, "/lib/ld-linux-riscv64-lp64d.so.1", "hello").unwrap_err();
        assert_eq!(
            e,
            format!(
                "hello: its interpreter /lib/ld-linux-riscv64-lp64d.so.1 is not in the sysroot {} (looked at {}); give --sysroot the folder that holds it (e.g. /usr/riscv64-linux-gnu)",
                r.display(),
                r.join("usr/lib/ld-linux-riscv64-lp64d.so.1").display()
            )
        );
        let e = resolve(r, "/loop", "p").unwrap_err();
        assert!(e.contains("more than 40 symbolic links"), "{e}");
        let e = resolve(r, "/usr/lib", "p").unwrap_err();
        assert!(e.contains("is not a file"), "{e}");
        let e = check_dir(&r.join("lib/riscv64/ld-2.36.so")).unwrap_err();
        assert!(e.contains("not a folder"), "{e}");
        let e = check_dir(&r.join("nothing")).unwrap_err();
        assert!(e.contains("no such folder"), "{e}");
        check_dir(r).unwrap();
    }
}
