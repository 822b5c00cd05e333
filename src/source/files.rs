//! Messages from files, for `leadgate import`, `leadgate parse` and the demo: single
//! `.eml` files, maildirs (`cur/` and `new/`), mbox files, and folders of any of them.

use anyhow::Context;
use std::path::{Path, PathBuf};

/// One message found on disk; `origin` names the file (and the position in an mbox).
#[derive(Clone, Debug)]
pub struct FileMessage {
    pub origin: String,
    pub raw: Vec<u8>,
}

/// Every message under `paths`, in a stable order (sorted names, mbox order).
pub fn read_all(paths: &[PathBuf]) -> anyhow::Result<Vec<FileMessage>> {
    let mut out = Vec::new();
    for p in paths {
        collect(p, &mut out).with_context(|| format!("cannot read {}", p.display()))?;
    }
    Ok(out)
}

fn collect(path: &Path, out: &mut Vec<FileMessage>) -> anyhow::Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        if path.join("cur").is_dir() && path.join("new").is_dir() {
            for sub in ["cur", "new"] {
                for f in sorted_entries(&path.join(sub))? {
                    if f.is_file() {
                        out.push(read_one(&f)?);
                    }
                }
            }
            return Ok(());
        }
        for entry in sorted_entries(path)? {
            let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') {
                continue;
            }
            let is_mail =
                name.ends_with(".eml") || name.ends_with(".mbox") || name.ends_with(".mbx");
            if entry.is_dir() || is_mail {
                collect(&entry, out)?;
            }
        }
        return Ok(());
    }
    if is_mbox(path)? {
        let file = std::fs::File::open(path)?;
        for (i, raw) in crate::parse::mbox(std::io::BufReader::new(file)).enumerate() {
            out.push(FileMessage {
                origin: format!("{}#{}", path.display(), i + 1),
                raw: raw?,
            });
        }
        return Ok(());
    }
    out.push(read_one(path)?);
    Ok(())
}

fn read_one(path: &Path) -> anyhow::Result<FileMessage> {
    Ok(FileMessage {
        origin: path.display().to_string(),
        raw: std::fs::read(path)?,
    })
}

/// An mbox starts with a `From ` separator line; an .eml starts with a header.
fn is_mbox(path: &Path) -> anyhow::Result<bool> {
    use std::io::Read;
    let mut head = [0u8; 5];
    let n = std::fs::File::open(path)?.read(&mut head)?;
    Ok(&head[..n] == b"From ")
}

fn sorted_entries(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_eml_maildir_and_mbox() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.eml"), "Subject: a\r\n\r\nA\r\n").unwrap();
        std::fs::create_dir_all(d.join("md/cur")).unwrap();
        std::fs::create_dir_all(d.join("md/new")).unwrap();
        std::fs::write(d.join("md/new/1.host"), "Subject: m\r\n\r\nM\r\n").unwrap();
        std::fs::write(
            d.join("box.mbox"),
            "From a@b Mon Nov 23 00:00:00 2026\nSubject: one\n\n1\n\nFrom c@d Mon Nov 23 00:00:01 2026\nSubject: two\n\n2\n",
        )
        .unwrap();
        let all = read_all(&[d.join("a.eml"), d.join("md"), d.join("box.mbox")]).unwrap();
        let subjects: Vec<String> = all
            .iter()
            .map(|m| {
                String::from_utf8_lossy(&m.raw)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        assert_eq!(
            subjects,
            ["Subject: a", "Subject: m", "Subject: one", "Subject: two"]
        );
        assert!(all[3].origin.ends_with("box.mbox#2"));
        // A folder is walked for .eml files and mailboxes.
        assert_eq!(read_all(&[d.to_path_buf()]).unwrap().len(), 4);
    }
}
