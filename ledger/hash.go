package ledger

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash"
	"slices"
	"strings"
	"sync"
)

// BodyHashLen and FieldHashLen are the lengths, in bytes, to which the ledger truncates its HMAC-SHA256
// of a body and of a field. See the package documentation, "Hashes", for why these suffice.
const (
	BodyHashLen  = 16
	FieldHashLen = 8
)

// Domain tags: a body's hash and a field's hash never come from the same input.
const (
	bodyTag  = "zentra-import ledger v1 body\x00"
	fieldTag = "zentra-import ledger v1 field\x00"
)

// Hasher computes the keyed hashes of request bodies with its ledger's key. It is safe for concurrent
// use. The key never leaves it.
type Hasher struct {
	pool sync.Pool // hash.Hash: HMAC-SHA256 with the key
	sets sync.Map  // joined names → *fieldSet, so that equal sets are one pointer
}

func newHasher(key []byte) *Hasher {
	k := slices.Clone(key)
	h := &Hasher{}
	h.pool.New = func() any { return hmac.New(sha256.New, k) }
	return h
}

// Hasher returns the ledger's hasher.
func (l *Ledger) Hasher() *Hasher { return l.hasher }

// Digest is what the ledger keeps of one request's body: the mapping that made it, a keyed hash of the
// whole body, and one keyed hash per field, with the fields' names. It holds no value. A Digest belongs
// to the ledger whose Hasher made it.
type Digest struct {
	owner   *Hasher
	mapping string
	body    [BodyHashLen]byte
	fields  *fieldSet
	hashes  []byte // FieldHashLen bytes per name of fields, in its order
}

// Mapping is the identity of the mapping the digest's body was made with.
func (d *Digest) Mapping() string { return d.mapping }

// Fields are the names of the body's fields (sorted): its targets, with a dot between the segments of
// a nested one (metadata.source).
func (d *Digest) Fields() []string { return slices.Clone(d.fields.names) }

// fieldSet is a sorted list of distinct field names, shared by every digest with the same fields.
type fieldSet struct {
	names []string
	key   string // the names joined with NUL: the set's identity
}

// Digest hashes a request body made with the mapping whose identity is mapping (the caller's: the
// mapping's hash with the reading rules' version, so that a body the same file maps differently under
// other rules is not taken for drift). body is the JSON object exactly as the request sends it.
//
// The body's hash is over its bytes. Its fields are its members, and the members of nested objects,
// named by their path (metadata.source); each field's hash is over its name and its value's JSON bytes
// as they stand in the body (a string with its quotes and escapes, a number as written, an array whole).
// An empty object is a field whose value is {}. A name that occurs more than once is one field, hashed
// over its values in the body's order.
func (h *Hasher) Digest(mapping string, body []byte) (*Digest, error) {
	if mapping == "" {
		return nil, errors.New("ledger: a digest needs the mapping's identity")
	}
	d := &Digest{owner: h, mapping: mapping, body: h.bodySum(body)}
	var err error
	if d.fields, d.hashes, err = h.fieldSums(body); err != nil {
		return nil, err
	}
	return d, nil
}

func (h *Hasher) bodySum(body []byte) (sum [BodyHashLen]byte) {
	m := h.pool.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(bodyTag))
	m.Write(body)
	var buf [sha256.Size]byte
	copy(sum[:], m.Sum(buf[:0]))
	h.pool.Put(m)
	return sum
}

// fieldSums finds the body's fields and hashes each.
func (h *Hasher) fieldSums(body []byte) (*fieldSet, []byte, error) {
	leaves, err := jsonLeaves(body)
	if err != nil {
		return nil, nil, err
	}
	slices.SortStableFunc(leaves, func(a, b leaf) int { return strings.Compare(a.name, b.name) })
	names := make([]string, 0, len(leaves))
	hashes := make([]byte, 0, len(leaves)*FieldHashLen)
	m := h.pool.Get().(hash.Hash)
	defer h.pool.Put(m)
	var buf [sha256.Size]byte
	var n [binary.MaxVarintLen64]byte
	for i := 0; i < len(leaves); {
		name := leaves[i].name
		m.Reset()
		m.Write([]byte(fieldTag))
		m.Write(n[:binary.PutUvarint(n[:], uint64(len(name)))])
		m.Write([]byte(name))
		for ; i < len(leaves) && leaves[i].name == name; i++ {
			v := leaves[i].value
			m.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
			m.Write(v)
		}
		names = append(names, name)
		hashes = append(hashes, m.Sum(buf[:0])[:FieldHashLen]...)
	}
	return h.set(names), hashes, nil
}

// set interns a sorted list of names.
func (h *Hasher) set(names []string) *fieldSet {
	key := strings.Join(names, "\x00")
	if s, ok := h.sets.Load(key); ok {
		return s.(*fieldSet)
	}
	s, _ := h.sets.LoadOrStore(key, &fieldSet{names: names, key: key})
	return s.(*fieldSet)
}

// Verdict is what a row's body is, against what the ledger knows of its reference.
type Verdict uint8

const (
	// Same: the ledger's entry was made with the same mapping, and the body has the same fields with
	// the same values.
	Same Verdict = iota + 1
	// Drift: same mapping, and some fields differ (added, removed or changed): Compare names them.
	Drift
	// OtherMapping: the entry was made with another mapping: the bodies cannot be compared, and the row
	// is known by its reference alone.
	OtherMapping
	// BodyUnknown: the ledger has the entry's id but not its body (seeded by ledger import, or written
	// from a journal after its job stopped): known by reference alone.
	BodyUnknown
)

func (v Verdict) String() string {
	switch v {
	case Same:
		return "same"
	case Drift:
		return "drift"
	case OtherMapping:
		return "other mapping"
	case BodyUnknown:
		return "body unknown"
	}
	return "Verdict(0)"
}

// Compare says whether body, made with the mapping whose identity is mapping, is the body the ledger
// confirmed for k's reference, and on Drift names the fields that differ (sorted). It hashes the fields
// only when the body's bytes differ; bodies whose bytes differ and whose fields do not (members in
// another order, other white space) are the Same.
func (h *Hasher) Compare(k *Known, mapping string, body []byte) (Verdict, []string, error) {
	if !k.Found {
		return 0, nil, errors.New("ledger: Compare of a reference the ledger does not know")
	}
	switch {
	case k.mapping == "":
		return BodyUnknown, nil, nil
	case k.mapping != mapping:
		return OtherMapping, nil, nil
	case h.bodySum(body) == k.body:
		return Same, nil, nil
	}
	set, hashes, err := h.fieldSums(body)
	if err != nil {
		return 0, nil, err
	}
	changed := changedFields(k.fields, k.hashes, set, hashes)
	if len(changed) == 0 {
		return Same, nil, nil
	}
	return Drift, changed, nil
}

// changedFields merges two sorted field lists and names the fields in only one, or in both with other
// hashes.
func changedFields(a *fieldSet, ah []byte, b *fieldSet, bh []byte) []string {
	var out []string
	var an, bn []string
	if a != nil {
		an = a.names
	}
	if b != nil {
		bn = b.names
	}
	i, j := 0, 0
	for i < len(an) || j < len(bn) {
		switch {
		case j == len(bn) || (i < len(an) && an[i] < bn[j]):
			out = append(out, an[i])
			i++
		case i == len(an) || bn[j] < an[i]:
			out = append(out, bn[j])
			j++
		default:
			if string(ah[i*FieldHashLen:(i+1)*FieldHashLen]) != string(bh[j*FieldHashLen:(j+1)*FieldHashLen]) {
				out = append(out, an[i])
			}
			i++
			j++
		}
	}
	return out
}

// leaf is one field of a body: its path and its value's JSON bytes.
type leaf struct {
	name  string
	value []byte
}

// jsonLeaves lists the fields of a JSON object: every member whose value is not an object, and every
// member of a nested object, by path. Empty objects are fields with the value {}.
func jsonLeaves(body []byte) ([]leaf, error) {
	if !json.Valid(body) {
		return nil, errors.New("ledger: the body is not JSON")
	}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return nil, errors.New("ledger: the body is not a JSON object")
	}
	var out []leaf
	jsonObject(body, i, "", &out)
	return out, nil
}

// jsonObject walks the valid object at b[i] and returns the index after it.
func jsonObject(b []byte, i int, prefix string, out *[]leaf) int {
	start := i
	i = skipSpace(b, i+1)
	if b[i] == '}' {
		if prefix != "" {
			*out = append(*out, leaf{name: prefix, value: b[start : i+1]})
		}
		return i + 1
	}
	for {
		ks := i
		i = stringEnd(b, i)
		key := jsonKey(b[ks:i])
		if prefix != "" {
			key = prefix + "." + key
		}
		i = skipSpace(b, skipSpace(b, i)+1) // past ':'
		if b[i] == '{' {
			i = jsonObject(b, i, key, out)
		} else {
			vs := i
			i = valueEnd(b, i)
			*out = append(*out, leaf{name: key, value: b[vs:i]})
		}
		i = skipSpace(b, i)
		if b[i] == '}' {
			return i + 1
		}
		i = skipSpace(b, i+1) // past ','
	}
}

func jsonKey(raw []byte) string {
	if !slices.Contains(raw, '\\') {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	_ = json.Unmarshal(raw, &s) // valid: checked with the whole body
	return s
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the valid string starting at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; ; j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
}

// valueEnd returns the index after the valid value starting at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '[', '{':
		depth := 0
		for j := i; ; j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '[', '{':
				depth++
			case ']', '}':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
	}
	j := i
	for j < len(b) && !strings.ContainsRune(",]} \t\r\n", rune(b[j])) {
		j++
	}
	return j
}
