package dataset

// Outline is what a run needs of the dataset before it loads it part by part
// (the store's DatasetPart): the manifest, seller, catalog and partners, and of each subscription
// only what places it in a part. A run's memory thus grows with its parts, not with the
// customers, subscriptions and license reports of the whole dataset (about 1.2 KB per
// customer, decoded).
type Outline struct {
	// Base holds the manifest, seller (its time zone resolved), catalog and partners,
	// indexed; no customers, subscriptions or license reports.
	Base *Dataset
	// Subscriptions are in the order of the dataset's (by line).
	Subscriptions []SubscriptionRef
}

// SubscriptionRef is a subscription as an outline has it.
type SubscriptionRef struct {
	ID, CustomerID, PartnerID string
	Channel                   Channel
	Line                      int
}
