package server

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/claude-insights/insights/store"
)

// todoList is one agent's todo list as the todos page shows it.
type todoList struct {
	store.TodoList
	Main  bool   // the main thread's list
	Label string // the subagent's description or type, when known
	Done  int
}

type todosData struct {
	Session store.Session
	Lists   []todoList
}

// loadTodos reads a session's todo lists, the main thread's first.
func (s *Server) loadTodos(r *http.Request) (todosData, error) {
	id := mux.Vars(r)["id"]
	if err := checkID(id); err != nil {
		return todosData{}, err
	}
	ss, err := s.session(r, id)
	if err != nil {
		return todosData{}, err
	}
	ls, err := s.db.Todos(r.Context(), id)
	if err != nil {
		return todosData{}, err
	}
	agents, err := s.db.Subagents(r.Context(), id)
	if err != nil {
		return todosData{}, err
	}
	labels := map[string]string{}
	for _, a := range agents {
		labels[a.AgentID] = a.Description
		if labels[a.AgentID] == "" {
			labels[a.AgentID] = a.Type
		}
	}
	d := todosData{Session: ss, Lists: []todoList{}}
	for _, l := range ls {
		v := todoList{TodoList: l, Main: l.AgentID == id, Label: labels[l.AgentID]}
		for _, it := range l.Items {
			if it.Status == "completed" {
				v.Done++
			}
		}
		if v.Main {
			d.Lists = append([]todoList{v}, d.Lists...)
		} else {
			d.Lists = append(d.Lists, v)
		}
	}
	return d, nil
}

func (s *Server) todosPage(r *http.Request) (page, error) {
	d, err := s.loadTodos(r)
	if err != nil {
		return page{}, err
	}
	title := d.Session.Title
	if title == "" {
		title = "Session " + d.Session.ID
	}
	return page{Template: "todos", Title: "Todos of " + title, Data: d}, nil
}

type apiTodoItem struct {
	Content    string `json:"content"`
	Status     string `json:"status"`
	ActiveForm string `json:"activeForm,omitempty"`
}

type apiTodoList struct {
	AgentID string        `json:"agentId"`
	Main    bool          `json:"main"`
	Label   string        `json:"label,omitempty"`
	Items   []apiTodoItem `json:"items"`
}

type apiTodos struct {
	SessionID string        `json:"sessionId"`
	Lists     []apiTodoList `json:"lists"`
}

// apiTodos is GET /api/sessions/{id}/todos: every agent's todo list of a
// session, the main thread's first.
func (s *Server) apiTodos(r *http.Request) (any, error) {
	d, err := s.loadTodos(r)
	if err != nil {
		return nil, err
	}
	out := apiTodos{SessionID: d.Session.ID, Lists: []apiTodoList{}}
	for _, l := range d.Lists {
		al := apiTodoList{AgentID: l.AgentID, Main: l.Main, Label: l.Label, Items: []apiTodoItem{}}
		for _, it := range l.Items {
			al.Items = append(al.Items, apiTodoItem{Content: it.Content, Status: it.Status, ActiveForm: it.ActiveForm})
		}
		out.Lists = append(out.Lists, al)
	}
	return out, nil
}
