package zentra

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// decodeBenchBodies are ordinary answers: a created customer in the documented envelope, a 409 with the
// existing id, a 422, and one with the id beside a value nested 20,000 levels deep.
var decodeBenchBodies = []struct{ name, body string }{
	{"created", `{"status":"success","data":{"id":"cus_01HZX3","object":"customer","external_reference":"crm-100001","first_name":"Ada","last_name":"Lovelace","email":"ada@example.com","phone":"+2348012345678","metadata":{"source":"legacy_crm","legacy_id":"100001"},"created_at":"2026-12-04T10:00:00Z"}}`},
	{"conflict", `{"success":false,"error":{"code":"conflict","field":"external_reference","status":409,"message":"conflicts with current state","details":{"customer_id":"cus_11"}}}`},
	{"invalid", `{"success":false,"error":{"code":"missing_required_field","field":"email","message":"email is required"}}`},
	{"deep", `{"data":{"id":"cus_x","x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}`},
}

// BenchmarkDecodeReply measures reading an answer's body into what the client understands:
//
//	go test -run '^$' -bench DecodeReply -benchmem ./zentra/
func BenchmarkDecodeReply(b *testing.B) {
	for _, bb := range decodeBenchBodies {
		b.Run(bb.name, func(b *testing.B) {
			body := []byte(bb.body)
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				decodeReply("application/json", body, false, false, anyKey)
			}
		})
	}
}

// TestDecodeReplyDeep: an answer nested deeper than encoding/json decodes (10,000 levels) is still read,
// its id found, whether the depth is in lists or objects, and however strings inside it look; one that
// is broken besides its depth is not, and says why, as any broken answer does.
func TestDecodeReplyDeep(t *testing.T) {
	lists := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	objects := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	tests := []struct {
		name, body string
		id         string // data.id
		problem    string
	}{
		{name: "lists beside the id", body: `{"data":{"id":"cus_x","x":` + lists + `}}`, id: "cus_x"},
		{name: "the id after the deep value", body: `{"x":` + objects + `,"data":{"id":"cus_y"}}`, id: "cus_y"},
		{name: "brackets and quotes in strings", body: `{"data":{"s":"[[\"{{\\","id":"cus_z","t":"]]}"},"x":` + lists + `}`, id: "cus_z"},
		{name: "10,001 levels", body: `{"data":{"id":"cus_w"},"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`, id: "cus_w"},
		{name: "deep and cut short", body: `{"data":{"id":"cus_x"},"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 100), problem: "truncated JSON (application/json)"},
		{name: "deep and broken inside", body: `{"data":{"id":"cus_x"},"x":` + strings.Repeat("[", 20000) + "1,,2" + strings.Repeat("]", 20000) + `}`, problem: "invalid JSON at byte"},
		{name: "deep and data after it", body: `{"data":{"id":"cus_x"},"x":` + lists + `} {}`, problem: "data after the JSON value"},
		{name: "a deep list", body: lists, problem: "unexpected JSON: a list instead of an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := decodeReply("application/json", []byte(tt.body), false, false, anyKey)
			if tt.problem != "" {
				if r.obj != nil || !strings.Contains(r.problem, tt.problem) {
					t.Fatalf("problem %q, obj %v; want a problem with %q", r.problem, r.obj != nil, tt.problem)
				}
				return
			}
			if r.problem != "" {
				t.Fatalf("problem %q", r.problem)
			}
			if id, _ := findID(r.obj, defaultIDPaths); id != tt.id {
				t.Fatalf("id %q, want %q", id, tt.id)
			}
		})
	}
}

// TestDecodeDeepIsDecode: decodeDeep reads what Decoder.Decode reads, for answers within maxReplyDepth,
// and keeps maxReplyDepth levels of a deeper one.
func TestDecodeDeepIsDecode(t *testing.T) {
	bodies := []string{`{}`, `[]`, `"x"`, `12.50`, `null`, `true`, `{"a":[1,"b",{"c":null,"d":[[],{}]}],"e":false,"f":1e400}`,
		strings.Repeat("[", maxReplyDepth) + strings.Repeat("]", maxReplyDepth)}
	for _, bb := range decodeBenchBodies[:3] {
		bodies = append(bodies, bb.body)
	}
	for _, b := range bodies {
		dec := json.NewDecoder(strings.NewReader(b))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		got, err := decodeDeep([]byte(b))
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%s: decodeDeep gives %#v, Decode %#v", b, got, want)
		}
	}
	got, err := decodeDeep([]byte(strings.Repeat("[", maxReplyDepth+1) + strings.Repeat("]", maxReplyDepth+1)))
	if err != nil {
		t.Fatal(err)
	}
	for range maxReplyDepth - 1 {
		got = got.([]any)[0]
	}
	if l := got.([]any); len(l) != 1 || l[0] != nil {
		t.Fatalf("the level beyond maxReplyDepth is %#v, want null", l)
	}
}
