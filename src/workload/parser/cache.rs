//! What a cached parse depends on, and its keys (the store itself is `crate::parsed`).
//!
//! - A file of a format that parses file by file (CloudFormation, Kubernetes, plans) is keyed
//!   by its parser, its extensions and its bytes, not by its path or the rest of its name: a copy of it anywhere in any
//!   workload is parsed once, and its result is given the copy's path (a resource's `file`,
//!   a document's key: the only places these parsers put it).
//! - A Terraform folder is keyed by its parser, its path (resources carry it as their root,
//!   and `path.module` evaluates to it) and the names and bytes of its files; the entry also
//!   lists the folders the parse read besides (the modules it calls) with a digest of their
//!   files, and is used only while each of them is unchanged.
//! - Errors and skipped code are stored with the rest: parsing reads nothing but the files
//!   and folders in the key and the dependencies, so they are as deterministic as the
//!   resources (a remote module that is not present is a dependency on the root's
//!   `.terraform/modules`). A folder whose parse was stopped (time or memory budget) gives no
//!   result at all, and nothing is stored for it.
//!
//! Bytes are identified by their SHA-256, computed once per file and run.

use super::{ParseStore, Parsed, Stored, PARSERS};
use crate::files::SourceFile;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Fields separated by their lengths, so ("ab","c") ≠ ("a","bc").
fn digest<'a>(fields: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h = Sha256::new();
    for f in fields {
        h.update((f.len() as u64).to_le_bytes());
        h.update(f);
    }
    hex::encode(h.finalize())
}

/// Keys of one workload's files and folders (a workload's files, sorted by path).
pub(super) struct Keyer<'w> {
    workload: &'w [&'w SourceFile],
    content: HashMap<&'w str, String>,
}

impl<'w> Keyer<'w> {
    pub(super) fn new(workload: &'w [&'w SourceFile]) -> Self {
        Keyer {
            workload,
            content: HashMap::new(),
        }
    }

    fn content(&mut self, f: &'w SourceFile) -> &str {
        self.content
            .entry(f.path.as_str())
            .or_insert_with(|| hex::encode(Sha256::digest(&f.bytes)))
    }

    /// The key of a group of files given to parser `parser`.
    pub(super) fn key(&mut self, parser: usize, group: &[&'w SourceFile]) -> String {
        let kind = PARSERS[parser].kind().as_str();
        if PARSERS[parser].per_file() {
            let f = group[0];
            // The extensions (`.yaml`, `.template.json`) tell the format; the rest of the name
            // is not part of the result.
            let name = f.path.rsplit('/').next().unwrap_or(&f.path);
            let ext = name.find('.').map_or("", |i| &name[i..]).to_string();
            let content = self.content(f).to_string();
            return digest([b"file".as_slice(), kind.as_bytes(), ext.as_bytes(), content.as_bytes()]);
        }
        let dir = group.first().map_or("", |f| f.dir()).to_string();
        let mut fields: Vec<Vec<u8>> = vec![b"folder".to_vec(), kind.as_bytes().to_vec(), dir.into_bytes()];
        for f in group {
            fields.push(f.path.as_bytes().to_vec());
            fields.push(self.content(f).as_bytes().to_vec());
        }
        digest(fields.iter().map(Vec::as_slice))
    }

    /// A digest of the names and bytes of the files directly in folder `dir`.
    fn folder(&mut self, dir: &str) -> String {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let start = self.workload.partition_point(|f| f.path.as_str() < prefix.as_str());
        let workload = self.workload;
        let mut fields: Vec<Vec<u8>> = Vec::new();
        for f in workload[start..]
            .iter()
            .take_while(|f| f.path.starts_with(&prefix))
            .filter(|f| f.dir() == dir)
        {
            fields.push(f.path.as_bytes().to_vec());
            fields.push(self.content(f).as_bytes().to_vec());
        }
        digest(fields.iter().map(Vec::as_slice))
    }

    /// The stored result of `group`, given its paths, if every folder it read is unchanged.
    pub(super) fn load(
        &mut self,
        store: &dyn ParseStore,
        parser: usize,
        key: &str,
        group: &[&'w SourceFile],
    ) -> Option<Parsed> {
        let Stored { path, deps, mut parsed } = store.load(key)?;
        for (dir, was) in &deps {
            if self.folder(dir) != *was {
                return None;
            }
        }
        let here = &group[0].path;
        if PARSERS[parser].per_file() && path != *here {
            // A per-file entry of a copy elsewhere: its path is re-applied (see `store`).
            for r in &mut parsed.resources {
                r.file = here.clone();
            }
            for e in &mut parsed.errors {
                e.file = here.clone();
            }
            for s in &mut parsed.skipped {
                s.path = here.clone();
            }
            if let Some(doc) = parsed.documents.remove(&path) {
                parsed.documents.insert(here.clone(), doc);
            }
        } else if path != *here {
            return None;
        }
        Some(parsed)
    }

    /// Stores a clean result of `group` with the folders it read.
    pub(super) fn store(
        &mut self,
        store: &dyn ParseStore,
        parser: usize,
        key: &str,
        group: &[&'w SourceFile],
        parsed: &Parsed,
    ) {
        let path = group[0].path.clone();
        // Re-pathing is sound only if the path appears only where `load` re-applies it.
        let only_here = parsed.resources.iter().all(|r| r.file == path && r.root.is_none())
            && parsed.documents.keys().all(|k| *k == path)
            && parsed.errors.iter().all(|e| e.file == path)
            && parsed.skipped.iter().all(|s| s.path == path)
            && parsed.read.is_empty();
        if PARSERS[parser].per_file() && !only_here {
            return;
        }
        let mut dirs: Vec<&String> = parsed.read.iter().collect();
        dirs.sort();
        dirs.dedup();
        let deps = dirs.into_iter().map(|d| (d.clone(), self.folder(d))).collect();
        store.store(
            key,
            &Stored {
                path,
                deps,
                parsed: parsed.clone(),
            },
        );
    }
}
