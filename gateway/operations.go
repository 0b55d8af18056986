package gateway

// Operations returns every operation the gateway recognises, mapped to its
// signing name (ServiceConnect or ServiceCampaigns). A caller allowed "*"
// may call these and, beyond them, operations the gateway does not know.
func Operations() map[string]string {
	out := make(map[string]string, len(routes))
	for _, r := range routes {
		out[r.op] = r.service
	}
	return out
}
