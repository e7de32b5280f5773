#!/usr/bin/env bash
# Re-creates the real-world corpus of bench/corpus.pins (issue 16) in $CORPUS (default
# /work/corpus2): one folder per pin line, holding the pinned paths of the repository at the
# pinned commit, untrimmed, with their paths inside the repository kept.
#
#   bench/corpus.sh [CORPUS]            # every pin
#   ONLY=badpods,sadcloud bench/corpus.sh
#
# Each repository comes from a local mirror when one exists ($MIRROR/owner+name/repo or
# $MIRROR/owner+name, a git directory; MIRROR defaults to /work/.mirror), otherwise it is
# cloned from GitHub once into $CACHE (default ~/.cache/railyard-corpus) without a checkout.
# Nothing is built or run from the copied code.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
pins=${PINS:-$here/corpus.pins}
corpus=${1:-${CORPUS:-/work/corpus2}}
mirror=${MIRROR:-/work/.mirror}
cache=${CACHE:-$HOME/.cache/railyard-corpus}
only=",${ONLY:-},"

gitdir_for() { # owner/name commit -> a git directory that has the commit
    local repo=$1 commit=$2 key=${1/\//+} d
    for d in "$mirror/$key/repo" "$mirror/$key" "$cache/$key.git"; do
        if [ -d "$d" ] && git --git-dir="$d" cat-file -e "$commit^{commit}" 2>/dev/null; then
            echo "$d"
            return
        fi
    done
    d="$cache/$key.git"
    mkdir -p "$cache"
    if [ ! -d "$d" ]; then
        echo "corpus: cloning https://github.com/$repo" >&2
        git clone --quiet --bare --filter=blob:none "https://github.com/$repo.git" "$d" >&2
    fi
    if ! git --git-dir="$d" cat-file -e "$commit^{commit}" 2>/dev/null; then
        git --git-dir="$d" fetch --quiet origin "$commit" >&2 ||
            { echo "corpus: $repo has no commit $commit" >&2; exit 2; }
    fi
    echo "$d"
}

mkdir -p "$corpus"
n=0
while read -r name repo commit paths; do
    case $name in ''|'#'*) continue ;; esac
    [ "$only" = ",," ] || [[ $only == *",$name,"* ]] || continue
    [ -n "$paths" ] || { echo "corpus: $pins: $name has no paths" >&2; exit 2; }
    gd=$(gitdir_for "$repo" "$commit")
    rm -rf "${corpus:?}/$name"
    mkdir -p "$corpus/$name"
    # shellcheck disable=SC2086 # paths are separate pathspecs
    if ! git --git-dir="$gd" archive --format=tar "$commit" -- $paths 2>/dev/null | tar -x -C "$corpus/$name"; then
        # A partial mirror (large blobs left out) cannot archive: copy the blobs it has, one
        # `cat-file --batch` for all, and say how many were missing.
        rm -rf "${corpus:?}/$name" && mkdir -p "$corpus/$name"
        # shellcheck disable=SC2086
        git --git-dir="$gd" ls-tree -r -z "$commit" -- $paths |
            python3 "$here/extract-blobs.py" "$gd" "$corpus/$name"
    fi
    files=$(find "$corpus/$name" -type f | wc -l)
    echo "corpus: $name <- $repo@${commit:0:12}: $files files"
    n=$((n + 1))
done <"$pins"
echo "corpus: $n folders in $corpus"
