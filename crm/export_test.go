package crm

// For the plan test of package crm_test.
var (
	WindowQuery = windowQuery
	BatchEvents = batchEvents
)
