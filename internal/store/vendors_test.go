package store

import "github.com/customergateway/gateway/internal/model"

// The store knows vendors only by name; the tests use three.
const (
	happyTalk model.Vendor = "happytalk"
	ladiFlow  model.Vendor = "ladiflow"
	engageLab model.Vendor = "engagelab"
)
