package rest

import "context"

type robotsRequest struct {
	RoomId            string   `json:"RoomId"`
	RobotList_Account []string `json:"RobotList_Account"`
}

func (h *Handler) addRobot(ctx context.Context, c *call) (any, error) {
	var req robotsRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Rooms.AddRobots(ctx, c.actor(), req.RoomId, req.RobotList_Account)
}

func (h *Handler) getRobot(ctx context.Context, c *call) (any, error) {
	var req roomIDRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	robots, err := h.o.Rooms.Robots(ctx, c.app.ID, req.RoomId)
	if err != nil {
		return nil, err
	}
	return struct {
		RobotList_Account []string `json:"RobotList_Account"`
	}{robots}, nil
}

func (h *Handler) delRobot(ctx context.Context, c *call) (any, error) {
	var req robotsRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Rooms.DelRobots(ctx, c.actor(), req.RoomId, req.RobotList_Account)
}
