package sim

// Instance attributes: DescribeInstanceAttribute, ListInstanceAttributes and
// UpdateInstanceAttribute (restJson1 bindings from the connect model:
// GET /instance/{InstanceId}/attribute/{AttributeType},
// GET /instance/{InstanceId}/attributes?maxResults=1..7&nextToken=…,
// POST /instance/{InstanceId}/attribute/{AttributeType} {"Value":…}).
// tollgate audit reads CONTACTFLOW_LOGS through them.

// instanceAttributeTypes lists the model's InstanceAttributeType values in
// the order ListInstanceAttributes returns them.
var instanceAttributeTypes = []string{
	"INBOUND_CALLS", "OUTBOUND_CALLS", "CONTACTFLOW_LOGS", "CONTACT_LENS",
	"AUTO_RESOLVE_BEST_VOICES", "USE_CUSTOM_TTS_VOICES", "EARLY_MEDIA",
	"MULTI_PARTY_CONFERENCE", "HIGH_VOLUME_OUTBOUND", "ENHANCED_CONTACT_MONITORING",
	"ENHANCED_CHAT_MONITORING", "MULTI_PARTY_CHAT_CONFERENCE", "MESSAGE_STREAMING",
}

type attributeOut struct {
	AttributeType string `json:"AttributeType"`
	Value         string `json:"Value"`
}

// attributeValue is the value of attribute t of inst: what
// UpdateInstanceAttribute set, else the instance's call settings for
// INBOUND_CALLS and OUTBOUND_CALLS, else "false" (an instance created
// through the API starts with contact flow logs and the rest off).
// Requires the state lock held.
func attributeValue(inst *instance, t string) string {
	if v, ok := inst.attrs[t]; ok {
		return v
	}
	switch t {
	case "INBOUND_CALLS":
		return boolString(inst.inbound)
	case "OUTBOUND_CALLS":
		return boolString(inst.outbound)
	}
	return "false"
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func (v *validator) attributeType(t string) {
	v.enum("attributeType", t, instanceAttributeTypes)
}

func (s *Server) describeInstanceAttribute(rc *reqCtx) (any, *apiError) {
	var v validator
	v.length("instanceId", rc.labels[0], 1, 100)
	v.attributeType(rc.labels[1])
	if e := v.err(rc.valCode); e != nil {
		return nil, e
	}
	inst, unlock, e := s.rlockInstance(rc.labels[0])
	if e != nil {
		return nil, e
	}
	defer unlock()
	return struct{ Attribute attributeOut }{attributeOut{rc.labels[1], attributeValue(inst, rc.labels[1])}}, nil
}

func (s *Server) listInstanceAttributes(rc *reqCtx) (any, *apiError) {
	maxRes, e := rc.queryInt("maxResults")
	if e != nil {
		return nil, e
	}
	q, _ := rc.queryValues()
	var v validator
	v.length("instanceId", rc.labels[0], 1, 100)
	v.intRange("maxResults", maxRes, 1, 7)
	if e := v.err(rc.valCode); e != nil {
		return nil, e
	}
	inst, unlock, e := s.rlockInstance(rc.labels[0])
	if e != nil {
		return nil, e
	}
	defer unlock()
	types, next, e := pageOf(instanceAttributeTypes, q.Get("nextToken"), maxRes, 7, rc.valCode)
	if e != nil {
		return nil, e
	}
	list := make([]attributeOut, 0, len(types))
	for _, t := range types {
		list = append(list, attributeOut{t, attributeValue(inst, t)})
	}
	return struct {
		Attributes []attributeOut
		NextToken  *string `json:"NextToken,omitempty"`
	}{list, next}, nil
}

type updateInstanceAttributeIn struct {
	ClientToken *string
	Value       *string
}

func (s *Server) updateInstanceAttribute(rc *reqCtx) (any, *apiError) {
	var in updateInstanceAttributeIn
	if e := decodeBody(rc.body, &in); e != nil {
		return nil, e
	}
	var v validator
	v.length("instanceId", rc.labels[0], 1, 100)
	v.attributeType(rc.labels[1])
	v.required("value", in.Value != nil)
	v.optLength("value", in.Value, 1, 100)
	if e := v.err(rc.valCode); e != nil {
		return nil, e
	}
	inst, unlock, e := s.lockInstance(rc.labels[0])
	if e != nil {
		return nil, e
	}
	defer unlock()
	if inst.attrs == nil {
		inst.attrs = make(map[string]string)
	}
	inst.attrs[rc.labels[1]] = *in.Value
	return struct{}{}, nil
}

// routeInstanceAttribute routes /instance/{InstanceId}/attributes and
// /instance/{InstanceId}/attribute/{AttributeType}; kind is the third path
// segment, n the segment count and label reads a decoded path label.
func routeInstanceAttribute(method, kind string, n int, label func(int) (string, bool)) (op opID, labels [2]string, ok bool) {
	switch {
	case n == 3 && kind == "attributes":
		op = opListInstanceAttributes
	case n == 4 && kind == "attribute" && method == "GET":
		op = opDescribeInstanceAttribute
	case n == 4 && kind == "attribute" && method == "POST":
		op = opUpdateInstanceAttribute
	default:
		return opUnknown, labels, false
	}
	if labels[0], ok = label(1); !ok {
		return opUnknown, labels, false
	}
	if n == 4 {
		if labels[1], ok = label(3); !ok {
			return opUnknown, labels, false
		}
	}
	return op, labels, true
}
