package model

// Vendor names a customer-engagement vendor behind the gateway, as the contract spells it
// ("vendors", "vendor_refs", the keys of "results"). The vendors themselves are plug-ins
// registered at start-up; the model knows none of them.
type Vendor string
