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

type describeInstanceAttributeIn struct{ pathInstance }

func (in *describeInstanceAttributeIn) validate(v *validator, rc *reqCtx) *apiError {
	in.validateInstance(v, rc)
	v.attributeType(rc.labels[1])
	return nil
}

func (s *Server) describeInstanceAttribute(rc *reqCtx, _ *describeInstanceAttributeIn, inst *instance) (any, *apiError) {
	return struct{ Attribute attributeOut }{attributeOut{rc.labels[1], attributeValue(inst, rc.labels[1])}}, nil
}

type listInstanceAttributesIn struct {
	pathInstance
	queryPage
}

func (in *listInstanceAttributesIn) validate(v *validator, rc *reqCtx) *apiError {
	in.validateInstance(v, rc)
	return in.parse(v, rc, 7)
}

func (s *Server) listInstanceAttributes(rc *reqCtx, in *listInstanceAttributesIn, inst *instance) (any, *apiError) {
	types, next, e := pageOf(instanceAttributeTypes, in.nextToken, in.maxResults, 7, rc)
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
	pathInstance
	ClientToken *string
	Value       *string
}

func (in *updateInstanceAttributeIn) validate(v *validator, rc *reqCtx) *apiError {
	in.validateInstance(v, rc)
	v.attributeType(rc.labels[1])
	v.required("value", in.Value != nil)
	v.optLength("value", in.Value, 1, 100)
	return nil
}

func (s *Server) updateInstanceAttribute(rc *reqCtx, in *updateInstanceAttributeIn, inst *instance) (any, *apiError) {
	if inst.attrs == nil {
		inst.attrs = make(map[string]string)
	}
	inst.attrs[rc.labels[1]] = *in.Value
	return struct{}{}, nil
}
