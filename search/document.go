package search

import "strconv"

// Everyone in a document's ReadRoles means visitors who are not logged in may read it
// (the forum's category read role of the same name).
const Everyone = "everyone"

// Document is one searchable thing, whatever its kind. Every kind fills the same
// fields, so one index answers one query across kinds with one set of facets; fields a
// kind has no use for stay empty. The JSON names are the Meilisearch attribute names.
type Document struct {
	// ID is "<kind>-<ref_id>": unique across kinds, stable across re-indexing.
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	RefID int64  `json:"ref_id"`
	// Type refines the kind (a thread's discussion, question or announcement).
	Type  string   `json:"type"`
	Title string   `json:"title"`
	Body  string   `json:"body"`
	URL   string   `json:"url"`
	Tags  []string `json:"tags"`
	// Status is the kind's lifecycle: for threads and replies "solved" or "unsolved"
	// (questions) or "open" (discussions and announcements).
	Status string `json:"status"`
	Solved bool   `json:"solved"`
	// ReadRoles is the visibility rule made data: the roles that may read the document
	// (Everyone for visitors too). Every query filters on it.
	ReadRoles  []string `json:"read_roles"`
	CategoryID int64    `json:"category_id,omitempty"`
	ThreadID   int64    `json:"thread_id,omitempty"`
	AuthorID   int64    `json:"author_id,omitempty"`
	// Author is the author's handle (filterable); AuthorName is shown.
	Author     string `json:"author"`
	AuthorName string `json:"author_name"`
	// CreatedAt is Unix seconds: Meilisearch filters and sorts numbers, not dates.
	CreatedAt int64 `json:"created_at"`
	// Score is the votes/reactions ranking ("votes" sort).
	Score   int `json:"score"`
	Replies int `json:"replies"`
}

// DocID is the document id of kind's row id.
func DocID(kind string, id int64) string { return kind + "-" + strconv.FormatInt(id, 10) }
