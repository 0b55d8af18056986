package sigv4_test

import (
	"fmt"

	"github.com/tollgatehq/tollgate/sigv4"
)

// The canonical query of `aws connect list-queues --queue-types STANDARD
// AGENT`: repeated names sorted by value, whatever the wire order.
func ExampleCanonicalQuery() {
	q, _ := sigv4.CanonicalQuery("queueTypes=STANDARD&queueTypes=AGENT&maxResults=10")
	fmt.Println(q)
	uri, _ := sigv4.CanonicalURI("/tags/arn%3Aaws%3Aconnect%3Aus-east-1%3A123456789012%3Ainstance%2Fabc")
	fmt.Println(uri)
	// Output:
	// maxResults=10&queueTypes=AGENT&queueTypes=STANDARD
	// /tags/arn%253Aaws%253Aconnect%253Aus-east-1%253A123456789012%253Ainstance%252Fabc
}
