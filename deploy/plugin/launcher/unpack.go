package main

// The single-file release: [launcher ELF][gzip payload][manifest JSON][trailer], written by
// scripts/release.mjs. The payload is the runtime's files concatenated in manifest order.
//
// Unpacking happens once per version into BASE/<version>-<manifest digest>/, a directory
// private to this user (0700). Every file's SHA-256 is checked while it is written, the
// whole copy lands with one rename (so a crash leaves no half copy in place), and a marker
// records each file's size, inode and change time. A warm start compares those with lstat:
// a dozen system calls instead of hashing 100 MB, and any later write, truncation,
// replacement or deletion changes them (ctime cannot be set back by a user), so a damaged
// copy is noticed and unpacked again.
//
// Concurrency: unpacking holds an exclusive flock on BASE/.lock, and re-checks once it has
// it, so concurrent cold starts unpack once. A running plugin holds a shared flock on
// BASE/<id>.lock, taken before the copy is checked (or, after unpacking, before BASE/.lock is
// released) and inherited across exec by node. Removing stale versions happens under
// BASE/.lock and only with an exclusive non-blocking flock on the version's lock, so it never
// pulls a runtime from under a process.

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
)

const (
	trailerMagic = "rcplugin-payload"
	trailerSize  = len(trailerMagic) + 16
	markerName   = ".unpacked"
	cacheEnv     = "ROLLOUTS_COMPANION_PLUGIN_CACHE"
	cacheDirName = "rollouts-companion-plugin"
)

type manifestFile struct {
	Path   string      `json:"path"`
	Mode   os.FileMode `json:"mode"`
	Size   int64       `json:"size"`
	Sha256 string      `json:"sha256"`
}

type manifest struct {
	Version string `json:"version"`
	Payload struct {
		Size   int64  `json:"size"`
		Sha256 string `json:"sha256"`
	} `json:"payload"`
	Files []manifestFile `json:"files"`
}

type payload struct {
	exe    *os.File
	offset int64
	m      manifest
	id     string
}

// heldLock stays referenced so that no finalizer closes it before exec hands it to node.
var heldLock *os.File

var safeVersion = regexp.MustCompile(`[^A-Za-z0-9._+-]`)

// openPayload returns nil when nothing is appended (the directory layout).
func openPayload(exe string) (*payload, error) {
	f, err := os.Open(exe)
	if err != nil {
		return nil, fmt.Errorf("cannot read my own executable %s: %v", exe, err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot stat %s: %v", exe, err)
	}
	trailer := make([]byte, trailerSize)
	if st.Size() < int64(trailerSize) {
		f.Close()
		return nil, nil
	}
	if _, err := f.ReadAt(trailer, st.Size()-int64(trailerSize)); err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", exe, err)
	}
	if string(trailer[:len(trailerMagic)]) != trailerMagic {
		f.Close()
		return nil, nil
	}
	damaged := func(why string) error {
		return fmt.Errorf("%s is damaged (%s): download it again and compare its sha256", exe, why)
	}
	payloadSize := int64(binary.LittleEndian.Uint64(trailer[len(trailerMagic):]))
	manifestSize := int64(binary.LittleEndian.Uint64(trailer[len(trailerMagic)+8:]))
	manifestAt := st.Size() - int64(trailerSize) - manifestSize
	if payloadSize <= 0 || manifestSize <= 0 || manifestAt-payloadSize < 0 {
		return nil, damaged("payload sizes point outside the file")
	}
	raw := make([]byte, manifestSize)
	if _, err := f.ReadAt(raw, manifestAt); err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", exe, err)
	}
	p := &payload{exe: f, offset: manifestAt - payloadSize}
	if err := json.Unmarshal(raw, &p.m); err != nil {
		return nil, damaged("manifest: " + err.Error())
	}
	if p.m.Payload.Size != payloadSize || len(p.m.Files) == 0 {
		return nil, damaged("manifest does not match the payload")
	}
	for _, file := range p.m.Files {
		if file.Path != path.Clean(file.Path) || path.IsAbs(file.Path) || strings.HasPrefix(file.Path, "..") || strings.HasPrefix(file.Path, ".") {
			return nil, damaged("manifest names the path " + file.Path)
		}
	}
	digest := sha256.Sum256(raw)
	p.id = safeVersion.ReplaceAllString(p.m.Version, "_") + "-" + hex.EncodeToString(digest[:8])
	return p, nil
}

// cacheBases lists where the runtime may go, best first. Beside the executable comes first:
// the controller keeps plugins in plugin-bin/ under its working directory, which it must be
// able to write (an emptyDir in the upstream install, whose root filesystem is read-only),
// and whose lifetime is the pod's. $HOME is often "/" for the controller's uid, so it is a
// fallback only.
func cacheBases(exe string) []string {
	if dir := os.Getenv(cacheEnv); dir != "" {
		return []string{dir}
	}
	bases := []string{filepath.Join(filepath.Dir(exe), "."+cacheDirName)}
	if dir := os.Getenv("XDG_CACHE_HOME"); dir != "" {
		bases = append(bases, filepath.Join(dir, cacheDirName))
	}
	if home := os.Getenv("HOME"); home != "" && home != "/" {
		bases = append(bases, filepath.Join(home, ".cache", cacheDirName))
	}
	return append(bases, filepath.Join(os.TempDir(), fmt.Sprintf("%s-%d", cacheDirName, os.Getuid())))
}

func (p *payload) ensureUnpacked(bases []string) (string, error) {
	var problems []string
	for _, base := range bases {
		if err := privateDir(base); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		root, err := p.ensureIn(base)
		if err == nil {
			return root, nil
		}
		problems = append(problems, err.Error())
	}
	return "", fmt.Errorf("cannot unpack the Node runtime into a private directory (set %s to a writable one):\n  %s",
		cacheEnv, strings.Join(problems, "\n  "))
}

// privateDir makes sure base is a real directory of ours that nobody else can write into.
func privateDir(base string) error {
	if err := os.MkdirAll(base, 0o700); err != nil {
		return fmt.Errorf("%s: %v", base, err)
	}
	st, err := os.Lstat(base)
	if err != nil {
		return fmt.Errorf("%s: %v", base, err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	switch {
	case !st.IsDir():
		return fmt.Errorf("%s: not a directory (a symbolic link?)", base)
	case int(sys.Uid) != os.Getuid():
		return fmt.Errorf("%s: owned by uid %d, not by me (uid %d)", base, sys.Uid, os.Getuid())
	case st.Mode().Perm()&0o077 != 0:
		if err := os.Chmod(base, 0o700); err != nil {
			return fmt.Errorf("%s: open to others and cannot be made private: %v", base, err)
		}
	}
	return nil
}

func (p *payload) ensureIn(base string) (string, error) {
	dir := filepath.Join(base, p.id)
	lockPath := dir + ".lock"
	lk, err := lockFile(lockPath, syscall.LOCK_SH)
	if err != nil {
		return "", err
	}
	damage := p.intact(dir)
	if damage != nil || !stillLinked(lk, lockPath) {
		lk.Close()
		if damage != nil && !errors.Is(damage, os.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "rollouts-companion-plugin: unpacked runtime %s is damaged (%v); unpacking it again\n", dir, damage)
		}
		if lk, err = p.unpack(base, dir, lockPath); err != nil {
			return "", err
		}
	}
	if err := keepAcrossExec(lk); err != nil {
		return "", err
	}
	heldLock = lk
	return dir, nil
}

type fileStat struct {
	Path  string      `json:"path"`
	Mode  os.FileMode `json:"mode"`
	Size  int64       `json:"size"`
	Ino   uint64      `json:"ino"`
	Mtime int64       `json:"mtime"`
	Ctime int64       `json:"ctime"`
}

type marker struct {
	ID    string     `json:"id"`
	Files []fileStat `json:"files"`
}

func statOf(dir, rel string) (fileStat, error) {
	st, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return fileStat{}, err
	}
	if !st.Mode().IsRegular() {
		return fileStat{}, fmt.Errorf("%s is not a regular file", rel)
	}
	sys := st.Sys().(*syscall.Stat_t)
	return fileStat{Path: rel, Mode: st.Mode(), Size: st.Size(), Ino: sys.Ino, Mtime: sys.Mtim.Nano(), Ctime: sys.Ctim.Nano()}, nil
}

// intact returns nil when dir holds this payload's files untouched since they were verified.
func (p *payload) intact(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, markerName))
	if err != nil {
		return err
	}
	var mk marker
	if err := json.Unmarshal(raw, &mk); err != nil || mk.ID != p.id || len(mk.Files) != len(p.m.Files) {
		return fmt.Errorf("its %s marker is not this version's", markerName)
	}
	for i, want := range mk.Files {
		if want.Path != p.m.Files[i].Path {
			return fmt.Errorf("its %s marker is not this version's", markerName)
		}
		got, err := statOf(dir, want.Path)
		if err != nil {
			return fmt.Errorf("%s: %v", want.Path, err)
		}
		if got != want {
			return fmt.Errorf("%s was changed after it was verified", want.Path)
		}
	}
	return nil
}

// unpack makes dir an intact copy and returns it locked shared. The shared lock is taken
// before the unpack lock is released, so no other launcher's clean-up can remove the copy
// between the two.
func (p *payload) unpack(base, dir, lockPath string) (*os.File, error) {
	baseLock, err := lockFile(filepath.Join(base, ".lock"), syscall.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer baseLock.Close()
	// Another launcher may have unpacked it while this one waited.
	if p.intact(dir) != nil {
		if err := p.replace(base, dir); err != nil {
			return nil, err
		}
		p.removeStale(base)
	}
	return lockFile(lockPath, syscall.LOCK_SH)
}

func (p *payload) replace(base, dir string) error {
	tmp, err := os.MkdirTemp(base, ".tmp-"+p.id+"-")
	if err != nil {
		return fmt.Errorf("%s: %v", base, err)
	}
	if err := p.extract(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if _, err := os.Lstat(dir); err == nil {
		trash := filepath.Join(base, fmt.Sprintf(".trash-%s-%d", p.id, os.Getpid()))
		if err := os.Rename(dir, trash); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("cannot move the damaged %s aside: %v", dir, err)
		}
		defer os.RemoveAll(trash)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("cannot move the unpacked runtime into %s: %v", dir, err)
	}
	syncDir(base)
	return nil
}

func (p *payload) extract(tmp string) error {
	payloadHash := sha256.New()
	src := io.TeeReader(bufio.NewReaderSize(io.NewSectionReader(p.exe, p.offset, p.m.Payload.Size), 1<<20), payloadHash)
	damaged := func(why string) error {
		return fmt.Errorf("%s is damaged (%s): download it again and compare its sha256", p.exe.Name(), why)
	}
	gz, err := gzip.NewReader(src)
	if err != nil {
		return damaged("payload: " + err.Error())
	}
	for _, file := range p.m.Files {
		if err := writeVerified(tmp, file, gz); err != nil {
			return damaged(err.Error())
		}
	}
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return damaged("payload: " + err.Error())
	}
	if _, err := io.Copy(io.Discard, src); err != nil {
		return damaged("payload: " + err.Error())
	}
	if hex.EncodeToString(payloadHash.Sum(nil)) != p.m.Payload.Sha256 {
		return damaged("payload checksum mismatch")
	}
	mk := marker{ID: p.id}
	for _, file := range p.m.Files {
		st, err := statOf(tmp, file.Path)
		if err != nil {
			return err
		}
		mk.Files = append(mk.Files, st)
	}
	raw, _ := json.Marshal(mk)
	if err := writeSynced(filepath.Join(tmp, markerName), raw); err != nil {
		return fmt.Errorf("%s: %v", tmp, err)
	}
	syncDir(tmp)
	return nil
}

func writeVerified(dir string, file manifestFile, from io.Reader) error {
	target := filepath.Join(dir, filepath.FromSlash(file.Path))
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(out, h), from, file.Size); err != nil {
		return fmt.Errorf("%s: %v", file.Path, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != file.Sha256 {
		return fmt.Errorf("%s does not match its checksum", file.Path)
	}
	// Private copy: the owner's permission bits only.
	if err := out.Chmod(file.Mode.Perm() & 0o700); err != nil {
		return err
	}
	return out.Sync()
}

func writeSynced(name string, data []byte) error {
	out, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	if _, err := out.Write(data); err != nil {
		return err
	}
	return out.Sync()
}

// removeStale removes other versions nobody runs, and leftovers of interrupted unpacks
// (only unpacking creates those, and this launcher holds the unpack lock).
func (p *payload) removeStale(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == p.id || name == p.id+".lock" || name == ".lock":
		case strings.HasPrefix(name, ".tmp-") || strings.HasPrefix(name, ".trash-"):
			os.RemoveAll(filepath.Join(base, name))
		case e.IsDir() || strings.HasSuffix(name, ".lock"):
			version := filepath.Join(base, strings.TrimSuffix(name, ".lock"))
			lk, err := os.OpenFile(version+".lock", os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				continue
			}
			if syscall.Flock(int(lk.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
				os.RemoveAll(version)
				os.Remove(version + ".lock")
			}
			lk.Close()
		}
	}
}

func lockFile(name string, how int) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot lock %s: %v", name, err)
	}
	return f, nil
}

// stillLinked tells whether the locked file is still the one at name: stale-version removal
// may unlink a lock file between open and flock.
func stillLinked(f *os.File, name string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(name)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// keepAcrossExec clears close-on-exec, so node inherits the shared lock for its lifetime.
func keepAcrossExec(f *os.File) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), syscall.F_SETFD, 0); errno != 0 {
		return fmt.Errorf("cannot keep the lock on %s: %v", f.Name(), errno)
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
