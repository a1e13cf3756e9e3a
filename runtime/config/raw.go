package config

// OrderedMap is a YAML mapping as Ruby's Hash holds it: keys in document
// order. Values are string, int, float64, bool, nil, []any or
// *OrderedMap.
type OrderedMap struct {
	Keys   []string
	Values map[string]any
}

// RawSection returns the top-level key of the merged document (after ERB
// and the destination overlay) with mappings in document order, for
// printing the configuration as Kamal does (`kamal config`).
func (c *Config) RawSection(key string) (any, bool) {
	if c.rawDoc == nil {
		return nil, false
	}
	v, ok := c.rawDoc.get(key)
	return ordered(v), ok
}

func ordered(v any) any {
	switch v := v.(type) {
	case *mapping:
		out := &OrderedMap{Keys: append([]string(nil), v.keys...), Values: make(map[string]any, v.len())}
		for _, k := range v.keys {
			out.Values[k] = ordered(v.vals[k])
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = ordered(e)
		}
		return out
	}
	return v
}
