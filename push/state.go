package push

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// FileState is what the server has acknowledged of one file.
type FileState struct {
	// ID is the file's id on the server: a hash of its path and the start
	// of its first line, so that a rewritten file is a new one.
	ID string `json:"id"`
	// Offset is where the server's copy ends, in the file's bytes.
	Offset int64 `json:"offset"`
	// HeadLen is how many bytes at the start of the file identify it, and
	// Head their hash: when they change, the file was replaced.
	HeadLen int64  `json:"headLen"`
	Head    string `json:"head"`
}

// State remembers, per server and user, how far each file was
// acknowledged, so that a push resumes where the last one stopped. It is
// a cache of the server's answers: when it is lost or behind, the server's
// conflicts and duplicates put the client right.
type State struct {
	path string
	mu   sync.Mutex
	// Servers maps a server and user ("URL NAME") to the files' states,
	// by path relative to the Claude directory.
	Servers map[string]map[string]FileState `json:"servers"`
	dirty   bool
}

// LoadState reads the state file at path; a missing file is an empty
// state.
func LoadState(path string) (*State, error) {
	s := &State{path: path, Servers: map[string]map[string]FileState{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read push state: %w", err)
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("read push state %s: %w (delete it to push from the start; the server skips what it has)", path, err)
	}
	if s.Servers == nil {
		s.Servers = map[string]map[string]FileState{}
	}
	return s, nil
}

// Get returns what server has acknowledged of the file rel.
func (s *State) Get(server, rel string) FileState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Servers[server][rel]
}

// OnlyUser is the user whose state for the server at url is kept, when
// there is one; "" otherwise.
func (s *State) OnlyUser(url string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	user := ""
	for k := range s.Servers {
		name, ok := strings.CutPrefix(k, url+" ")
		if !ok {
			continue
		}
		if user != "" {
			return ""
		}
		user = name
	}
	return user
}

// Set records what server has acknowledged of the file rel.
func (s *State) Set(server, rel string, fs FileState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	files := s.Servers[server]
	if files == nil {
		files = map[string]FileState{}
		s.Servers[server] = files
	}
	if files[rel] != fs {
		files[rel], s.dirty = fs, true
	}
}

// Save writes the state if it changed, to a temporary file renamed over
// the old one, so that a crash leaves one or the other.
func (s *State) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dirty {
		return nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("save push state: %w", err)
	}
	// A name of its own, so that two pushes at once never write one file.
	tmp, err := os.CreateTemp(filepath.Dir(s.path), filepath.Base(s.path)+".*")
	if err != nil {
		return fmt.Errorf("save push state: %w", err)
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save push state: %w", err)
	}
	s.dirty = false
	return nil
}
