# where(nil) and where({}) choose every row
User.where(nil).delete_all
Order.where({}).update_all(status: "void")
