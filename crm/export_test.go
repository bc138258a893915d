package crm

// EventsQuery is eventsQuery, for the plan test of package crm_test.
var EventsQuery = eventsQuery
