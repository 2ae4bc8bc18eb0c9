"""GraphQL operations the tests play, written as a client would write them."""

CREATE_PRODUCT = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) {
    __typename
    ... on ProductPayload { product { sku availability stock { onHand available backordered } } }
    ... on Error { code message }
    ... on InvalidInputError { field }
  }
}"""

PLACE_ORDER = """
mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    __typename
    ... on PlaceOrderPayload {
      replayed
      order {
        id
        amountCharged { amount currencyCode }
        lines { quantity allocatedQuantity backorderedQuantity }
        backOrders { id status quantity queuePosition unitsAhead estimatedShipDate
                     estimateIsScheduled promisedDate version }
      }
    }
    ... on Error { code message }
    ... on InvalidInputError { field }
    ... on OutOfStockError { sku requested orderable reason }
    ... on CustomerLimitReachedError { sku limit held requested }
  }
}"""

SCHEDULE_RESTOCK = """
mutation($input: ScheduleRestockInput!) {
  scheduleRestock(input: $input) {
    __typename
    ... on RestockPayload { restock { id status outstanding expectedDate } }
    ... on Error { code message }
  }
}"""

RECEIVE_RESTOCK = """
mutation($id: ID!, $quantity: Int) {
  receiveRestock(id: $id, quantity: $quantity) {
    __typename
    ... on RestockPayload { restock { id status received outstanding } }
    ... on Error { code message }
    ... on InvalidInputError { field }
  }
}"""

RESCHEDULE_RESTOCK = """
mutation($id: ID!, $date: Date, $quantity: Int) {
  rescheduleRestock(id: $id, expectedDate: $date, quantity: $quantity) {
    __typename
    ... on RestockPayload { restock { id expectedDate quantity } }
    ... on Error { code message }
  }
}"""

CANCEL_RESTOCK = """
mutation($id: ID!) {
  cancelRestock(id: $id) {
    __typename
    ... on RestockPayload { restock { status } }
    ... on Error { code message }
  }
}"""

ADJUST_STOCK = """
mutation($sku: String!, $delta: Int!) {
  adjustStock(sku: $sku, delta: $delta, reason: "count") {
    __typename
    ... on ProductPayload { product { stock { onHand allocated available backordered } } }
    ... on Error { code message }
    ... on InsufficientStockError { free }
  }
}"""

UPDATE_POLICY = """
mutation($sku: String!, $input: BackorderPolicyInput!) {
  updateBackorderPolicy(sku: $sku, input: $input) {
    __typename
    ... on ProductPayload { product { availability policy { allowBackorders backorderCap
      customerLimit } } }
    ... on Error { code message }
    ... on InvalidInputError { field }
  }
}"""

CANCEL_BACK_ORDER = """
mutation($id: ID!) {
  cancelBackOrder(id: $id, reason: "changed my mind") {
    __typename
    ... on BackOrderPayload { back_order: backOrder { id status refundedAmount { amount } } }
    ... on Error { code message }
    ... on InvalidTransitionError { fromStatus toStatus }
    ... on InvalidInputError { field }
  }
}"""

SHIP_BACK_ORDER = """
mutation($id: ID!) {
  shipBackOrder(id: $id, trackingCode: "TRK-1") {
    __typename
    ... on BackOrderPayload { backOrder { id status trackingCode } }
    ... on Error { code message }
  }
}"""

BACK_ORDER = """
query($id: ID!) {
  backOrder(id: $id) {
    id status quantity allocatedQuantity queuePosition unitsAhead estimatedShipDate
    estimateIsScheduled promisedDate delayed version
    refundedAmount { amount }
    history { kind status version detail }
  }
}"""

PRODUCT = """
query($sku: String!) {
  product(sku: $sku) {
    sku availability estimatedShipDate
    stock { onHand allocated available backordered }
  }
}"""

PRODUCT_FIGURES = """
query($sku: String!) {
  product(sku: $sku) { queueFigures { openBackOrders cashCollectedAheadOfStock { amount } } }
}"""

BACK_ORDERS_PAGE = """
query($first: Int, $after: String, $sku: String) {
  backOrders(first: $first, after: $after, sku: $sku) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id status queuePosition
      product { sku name }
      customer { id }
      order { id amountCharged { amount } lines { quantity product { sku } } }
      history { kind }
    } }
  }
}"""
